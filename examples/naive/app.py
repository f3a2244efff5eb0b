# The notes API, first attempt: it works on my laptop.
import logging
import os
import sqlite3

import psycopg2
from fastapi import FastAPI, Request

os.makedirs("/var/log/app", exist_ok=True)
logging.basicConfig(filename="/var/log/app/app.log", level=logging.INFO)
log = logging.getLogger(__name__)

app = FastAPI()
DATABASE_URL = os.environ.get("DATABASE_URL", "")


def db():
    if DATABASE_URL.startswith("postgres"):
        return psycopg2.connect(DATABASE_URL)
    connection = sqlite3.connect("notes.db")
    connection.execute(
        "CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, title TEXT, body TEXT)"
    )
    return connection


@app.get("/health")
def health():
    return {"status": "ok"}


@app.post("/notes")
async def add_note(request: Request):
    note = await request.json()
    print("got a note", note)
    connection = db()
    cursor = connection.cursor()
    cursor.execute(f"INSERT INTO notes (title, body) VALUES ('{note['title']}', '{note['body']}')")
    connection.commit()
    log.info("note added")
    return {"ok": True}


@app.get("/notes")
def list_notes():
    print("listing notes")
    rows = db().cursor().execute("SELECT id, title, body FROM notes").fetchall()
    return [{"id": r[0], "title": r[1], "body": r[2]} for r in rows]
