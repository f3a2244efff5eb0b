import logging

from flask import Flask

logging.basicConfig(filename="/var/log/app/app.log", level=logging.INFO)
app = Flask(__name__)


@app.route("/")
def index():
    print("got a request")
    return "hello"
