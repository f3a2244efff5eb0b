"""Table-driven tests for the shared secret detector.

Every fake secret is assembled at run time from pieces, so this file itself never holds a
token that push-protection scanners would match.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from dockwise.secrets import (
    KINDS,
    MAX_SCAN_BYTES,
    SecretMatch,
    credential_file_kind,
    is_binary,
    is_credential_name,
    looks_like_placeholder,
    redact,
    scan_text,
    scan_value,
)
from dockwise.secrets import _made_up_uuid as _made_up_uuid

RANDOM62 = "q7Lm2ZxR9tVb4NcW8pKd3HsJ6fGy1AeUoTi5QrXzBvCnMlPkDjEhSgFaYwOuIe"
HEX40 = "3f9a1c7e5b2d8f4a6c0e9b7d5f3a1c8e6b4d2f0a"


def rnd(size: int, offset: int = 0) -> str:
    return (RANDOM62[offset:] + RANDOM62[:offset])[:size]


def b64url(obj: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


AWS_ID = "AK" + "IA" + "Q3ZBX7RTY2MNW4PL"
AWS_SECRET = "kR9vT2xQ8mZ4nP7wL1sY" + "6bH3jF0gD5cA+eU/iO2q"
GITHUB = "gh" + "p_" + rnd(36)
GITHUB_PAT = "github" + "_pat_" + "11ABCDE2345FGHIJ6789KL_" + rnd(59, 3)
GITLAB = "gl" + "pat-" + rnd(20, 5)
BITBUCKET = "AT" + "BB" + rnd(28, 7) + "A1B2C3D4"
SLACK_BOT = "xo" + "xb-" + "40817352961-5820394716253-" + rnd(24, 9)
SLACK_HOOK = "https://hooks.slack" + ".com/services/T0ABC1DEF/B0GHI2JKL/" + rnd(24, 11)
STRIPE_LIVE = "sk" + "_live_" + rnd(24, 13)
STRIPE_RESTRICTED = "rk" + "_live_" + rnd(24, 15)
STRIPE_TEST = "sk" + "_test_" + rnd(24, 17)
TWILIO_KEY = "S" + "K" + "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
TWILIO_PAIR = "A" + "C" + "a1b2c3d4e5f60718293a4b5c6d7e8f90:" + "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
SENDGRID = "S" + "G." + rnd(22, 19) + "." + rnd(43, 21)
OPENAI = "s" + "k-" + rnd(20, 23) + "T3Blbk" + "FJ" + rnd(20, 25)
OPENAI_PROJ = "sk-" + "proj-" + rnd(60, 27) + "-_" + rnd(40, 29)
ANTHROPIC = "sk-" + "ant-api03-" + rnd(60, 31) + rnd(33, 33) + "AA"
NPM = "np" + "m_" + rnd(36, 35)
PYPI = "pyp" + "i-AgEIcHlwaS5vcmc" + base64.urlsafe_b64encode(bytes(range(5, 95))).decode()
GCP_KEY = "AI" + "za" + "Sy" + rnd(33, 37)
AZURE_KEY = base64.b64encode(bytes((i * 37 + 11) % 256 for i in range(64))).decode()
JWT = ".".join(
    [
        b64url({"alg": "HS256", "typ": "JWT"}),
        b64url({"sub": "4242", "iat": 1700000000, "scope": "deploy"}),
        rnd(43, 39),
    ]
)
PEM_BODY = "\n".join(
    base64.b64encode(bytes((i * 7 + j) % 256 for i in range(48))).decode() for j in range(12)
)
RSA_KEY = "-----BEGIN RSA PRIVATE" + " KEY-----\n" + PEM_BODY + "\n-----END RSA PRIVATE KEY-----\n"
OPENSSH_KEY = (
    "-----BEGIN OPENSSH PRIVATE"
    + " KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ"
    + PEM_BODY
    + "\n-----END OPENSSH PRIVATE KEY-----\n"
)
PASSWORD = "Xk29" + "fj!aPq7"
B64 = base64.b64encode(bytes((i * 53 + 7) % 256 for i in range(32))).decode()  # 44 chars
BOOTSTRAP_TOKEN = "7q2kx9" + "." + "m4c8zt1p0v6rw3ya"  # kubeadm: [a-z0-9]{6}.[a-z0-9]{16}
CERT_PEM = "-----BEGIN CERTIFICATE-----\n" + PEM_BODY + "\n-----END CERTIFICATE-----\n"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def nb(source: str) -> str:
    """One line of a notebook cell's ``source`` list, as nbformat writes it."""
    return "   " + json.dumps(source + "\n") + ",\n"


def bcrypt_hash(prefix: str = "$2b$12$") -> str:
    chars = "./" + RANDOM62
    return prefix + "".join(chars[(i * 17 + 5) % len(chars)] for i in range(53))


POSITIVES: list[tuple[str, str, str, str | None]] = [
    # (case id, text, expected kind, path hint)
    ("aws-key-id", f"AWS_ACCESS_KEY_ID={AWS_ID}\n", "aws-access-key-id", ".env"),
    ("aws-secret", f"aws_secret_access_key = {AWS_SECRET}\n", "aws-secret-access-key", None),
    ("github", f'token = "{GITHUB}"\n', "github-token", "app.py"),
    ("github-pat", f"GH={GITHUB_PAT}\n", "github-token", None),
    ("gitlab", f"export CI_TOKEN={GITLAB}\n", "gitlab-token", "ci.sh"),
    ("bitbucket", f"BITBUCKET_APP_PASSWORD={BITBUCKET}\n", "bitbucket-app-password", None),
    ("slack-bot", f"slack: {SLACK_BOT}\n", "slack-token", "c.yaml"),
    ("slack-webhook", f"url: {SLACK_HOOK}\n", "slack-webhook", "c.yaml"),
    ("stripe-live", f"stripe.api_key = '{STRIPE_LIVE}'\n", "stripe-secret-key", "pay.py"),
    ("stripe-restricted", f"KEY={STRIPE_RESTRICTED}\n", "stripe-secret-key", None),
    ("stripe-test", f"KEY={STRIPE_TEST}\n", "stripe-test-key", None),
    ("twilio-key", f"TWILIO_API_KEY={TWILIO_KEY}\n", "twilio-api-key", None),
    ("twilio-sid-token", f"https://{TWILIO_PAIR}@api.twilio.com\n", "twilio-auth-token", None),
    ("sendgrid", f'"sendgrid": "{SENDGRID}"\n', "sendgrid-api-key", "c.json"),
    ("openai", f"OPENAI_API_KEY={OPENAI}\n", "openai-api-key", None),
    ("openai-proj", f"const k = '{OPENAI_PROJ}';\n", "openai-api-key", "a.js"),
    ("anthropic", f"ANTHROPIC_API_KEY={ANTHROPIC}\n", "anthropic-api-key", None),
    ("npm", f"//registry.npmjs.org/:_authToken={NPM}\n", "npm-token", ".npmrc"),
    ("pypi", f"password = {PYPI}\n", "pypi-token", ".pypirc"),
    ("gcp-api-key", f'apiKey: "{GCP_KEY}",\n', "gcp-api-key", "a.js"),
    (
        "azure-conn-string",
        f"DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={AZURE_KEY};"
        "EndpointSuffix=core.windows.net\n",
        "azure-storage-key",
        None,
    ),
    ("jwt", f"Authorization: Bearer {JWT}\n", "jwt", None),
    ("rsa-key", RSA_KEY, "private-key", None),
    ("openssh-key", OPENSSH_KEY, "private-key", None),
    (
        "gcp-service-account",
        json.dumps({"type": "service_account", "private_key": RSA_KEY}, indent=1),
        "gcp-service-account-key",
        "sa.json",
    ),
    ("postgres-url", f"DATABASE_URL=postgres://app:{PASSWORD}@db:5432/app\n", "url-password", None),
    ("mongodb-srv", f"uri: mongodb+srv://u:{PASSWORD}@c0.mongodb.net/x\n", "url-password", None),
    ("redis-url", f"REDIS_URL=rediss://:{PASSWORD}@cache:6380/0\n", "url-password", None),
    ("amqp-url", f"broker = 'amqps://svc:{PASSWORD}@mq/vhost'\n", "url-password", "c.py"),
    (
        "basic-auth-url",
        f"pip install -i https://ci:{PASSWORD}@pypi.acme.io/simple x\n",
        "url-password",
        None,
    ),
    ("env-password", f"DB_PASSWORD={PASSWORD}\n", "password-assignment", ".env"),
    ("json-password", f'{{"password": "{PASSWORD}"}}\n', "password-assignment", "c.json"),
    ("yaml-password", f"db:\n  password: {PASSWORD}\n", "password-assignment", "c.yaml"),
    ("cli-password", f"psql --password={PASSWORD} -h db\n", "password-assignment", "x.sh"),
    ("cli-password-spaced", f"app --db-password {PASSWORD}\n", "password-assignment", "x.sh"),
    ("dockerfile-env-legacy", f"ENV DB_PASSWORD {PASSWORD}\n", "password-assignment", "Dockerfile"),
    ("export-token", f"export API_TOKEN={rnd(32, 41)}\n", "high-entropy-assignment", "x.sh"),
    ("python-secret", f'SECRET_KEY = "{rnd(50, 43)}"\n', "high-entropy-assignment", "s.py"),
    ("hex-secret", f"SESSION_SECRET={HEX40}\n", "high-entropy-assignment", ".env"),
    (
        "k8s-env",
        f'env:\n  - name: DB_PASSWORD\n    value: "{PASSWORD}"\n',
        "password-assignment",
        "k8s.yaml",
    ),
    ("xml-password", f"<password>{PASSWORD}</password>\n", "password-assignment", "settings.xml"),
    ("docker-login", f"docker login -u ci -p {PASSWORD} r.io\n", "command-line-password", None),
    ("mysql-attached", f"mysqldump -uroot -p{PASSWORD} db\n", "command-line-password", None),
    ("curl-user", f"curl -u deploy:{PASSWORD} https://x.io\n", "basic-auth-credential", None),
    # a dotted value made of random parts under a credential name is still a secret
    (
        "dotted-random",
        f"API_TOKEN={rnd(10, 3).lower()}.{rnd(14, 9).lower()}\n",
        "high-entropy-assignment",
        ".env",
    ),
    # a snake_case value that names no credential is judged like any password
    ("snake-case-password", 'password: "tiger_lily_1987"\n', "password-assignment", "c.yaml"),
    # JSON strings holding code (notebook cells): escaped quotes are unescaped first
    ("notebook-assign", nb(f'key = "{rnd(40, 5)}"'), "high-entropy-assignment", "n.ipynb"),
    (
        "notebook-environ",
        nb(f'os.environ["ACME_API_KEY"] = "{rnd(40, 7)}"'),
        "high-entropy-assignment",
        "n.ipynb",
    ),
    (
        "notebook-attribute",
        nb(f'client.api_token = "{rnd(32, 9)}"'),
        "high-entropy-assignment",
        "n.ipynb",
    ),
    ("notebook-password", nb(f'db_password = "{PASSWORD}"'), "password-assignment", "n.ipynb"),
    (
        "json-escaped-env",
        json.dumps({"cmd": f'export API_TOKEN="{rnd(32, 11)}"'}) + "\n",
        "high-entropy-assignment",
        "task.json",
    ),
    # secrets whose name holds a hashing word are still secrets
    ("hashing-secret", f"HASHING_SECRET={rnd(32, 13)}\n", "high-entropy-assignment", ".env"),
    ("hasher-key", f"hasher_key: {rnd(32, 15)}\n", "high-entropy-assignment", "c.yaml"),
    # SQL role statements
    (
        "sql-create-user",
        f"CREATE USER app WITH PASSWORD '{PASSWORD}';\n",
        "password-assignment",
        "seed.sql",
    ),
    (
        "sql-encrypted",
        f"CREATE ROLE app\n  LOGIN ENCRYPTED PASSWORD '{PASSWORD}';\n",
        "password-assignment",
        "seed.sql",
    ),
    (
        "sql-alter-role",
        f"ALTER ROLE app PASSWORD '{PASSWORD}' VALID UNTIL 'infinity';\n",
        "password-assignment",
        "seed.sql",
    ),
    (
        "sql-in-code",
        f"cur.execute(\"ALTER USER app WITH PASSWORD '{PASSWORD}'\")\n",
        "password-assignment",
        "m.py",
    ),
    (
        "mysql-identified",
        f"CREATE USER 'app'@'%' IDENTIFIED BY '{PASSWORD}';\n",
        "password-assignment",
        "init.sql",
    ),
    (
        "mysql-identified-with",
        f"ALTER USER 'app'@'%' IDENTIFIED WITH caching_sha2_password BY '{PASSWORD}';\n",
        "password-assignment",
        "init.sql",
    ),
    (
        "mysql-grant",
        f"GRANT ALL ON app.* TO 'app'@'%' IDENTIFIED BY '{PASSWORD}';\n",
        "password-assignment",
        "init.sql",
    ),
    (
        "oracle-identified",
        f"CREATE USER app IDENTIFIED BY {PASSWORD.replace('!', '_')};\n",
        "password-assignment",
        "init.sql",
    ),
    # subscript assignments
    (
        "subscript-dict",
        f"CONFIG[\"smtp_password\"] = '{PASSWORD}'\n",
        "password-assignment",
        "c.py",
    ),
    (
        "subscript-environ",
        f'os.environ["ACME_API_KEY"] = "{rnd(32, 17)}"\n',
        "high-entropy-assignment",
        "c.py",
    ),
    ("subscript-php", f"$config['db_password'] = '{PASSWORD}';\n", "password-assignment", "c.php"),
    (
        "subscript-ruby-env",
        f"ENV['STRIPE_SECRET'] = '{rnd(32, 19)}'\n",
        "high-entropy-assignment",
        "c.rb",
    ),
    # base64 values whose text is a secret
    (
        "kubeconfig-client-key",
        f"users:\n- name: admin\n  user:\n    client-key-data: {b64(RSA_KEY)}\n",
        "private-key",
        "kubeconfig",
    ),
    (
        "k8s-secret-url",
        f"kind: Secret\ndata:\n  DATABASE_URL: "
        f"{b64('postgres://app:' + PASSWORD + '@db.internal:5432/app')}\n",
        "url-password",
        "s.yaml",
    ),
    ("k8s-secret-token", f"kind: Secret\ndata:\n  GH: {b64(GITHUB)}\n", "github-token", "s.yaml"),
    (
        "json-client-key",
        json.dumps({"client-key-data": b64(OPENSSH_KEY)}, indent=1),
        "private-key",
        "kubeconfig.json",
    ),
    ("long-encoded-key", f"blob: {b64(RSA_KEY + 'x' * 20_000)}\n", "private-key", "v.yaml"),
    # pwd as a mapping key and in connection strings
    (
        "pwd-json",
        f'{{\n  "user": "app",\n  "pwd": "{PASSWORD}"\n}}\n',
        "password-assignment",
        "c.json",
    ),
    (
        "pwd-json-inline",
        f'{{"user": "app", "pwd": "{PASSWORD}"}}\n',
        "password-assignment",
        "c.json",
    ),
    ("pwd-yaml", f"db:\n  pwd: {PASSWORD}\n", "password-assignment", "v.yaml"),
    (
        "pwd-odbc",
        f'cs = "Driver={{ODBC Driver 18}};Server=db;UID=sa;PWD={PASSWORD};"\n',
        "password-assignment",
        "db.py",
    ),
    (
        "pwd-ado",
        f'"Db": "Server=db;Database=app;User Id=sa;Pwd={PASSWORD};"\n',
        "password-assignment",
        "appsettings.json",
    ),
    # a printf slot is a template; "%s" inside a random value is not a slot
    (
        "percent-in-random",
        f"SECRET_KEY = '{rnd(20, 21)}%s-{rnd(20, 23)}'\n",
        "high-entropy-assignment",
        "settings.py",
    ),
    (
        "percent-in-url",
        "DATABASE_URL=postgres://app:Xk9%sQ2rTw@db.internal/app\n",
        "url-password",
        None,
    ),
    # shell parameter expansion: a literal default is judged
    (
        "expansion-default",
        f"DB_PASSWORD: ${{DB_PASSWORD:-{PASSWORD}}}\n",
        "password-assignment",
        "docker-compose.yml",
    ),
    (
        "expansion-assign-default",
        f'TOKEN="${{API_TOKEN:={rnd(32, 25)}}}"\n',
        "high-entropy-assignment",
        "run.sh",
    ),
    # kubeadm bootstrap tokens
    ("bootstrap-token", f"    token: {BOOTSTRAP_TOKEN}\n", "high-entropy-assignment", "kubeconfig"),
    (
        "kubeadm-join",
        f"kubeadm join 10.0.0.1:6443 --token {BOOTSTRAP_TOKEN} \\\n",
        "high-entropy-assignment",
        "join.sh",
    ),
    (
        "bootstrap-token-env",
        f"KUBEADM_TOKEN={BOOTSTRAP_TOKEN}\n",
        "high-entropy-assignment",
        ".env",
    ),
]

DECOYS: list[tuple[str, str, str | None]] = [
    ("git-sha", f"commit: {HEX40}\n", None),
    ("sha256-hash", f"ENV PYTHON_SHA256={HEX40}{HEX40[:24]}\n", "Dockerfile"),
    ("md5-checksum", "checksum: 9e107d9d372bb6826bd81d3542a419d6\n", None),
    ("hash-name", f"PASSWORD_HASH={HEX40}\n", ".env"),
    ("uuid", "request_id = '123e4567-e89b-12d3-a456-426614174000'\n", "a.py"),
    ("uuid-client-id", "CLIENT_ID=123e4567-e89b-12d3-a456-426614174000\n", None),
    ("base64-blob", f"data: {AZURE_KEY}\n", None),
    ("ssh-public-key", f"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ{AZURE_KEY} me@host\n", None),
    (
        "public-pem",
        "-----BEGIN PUBLIC KEY-----\n" + PEM_BODY + "\n-----END PUBLIC KEY-----\n",
        None,
    ),
    (
        "certificate",
        "-----BEGIN CERTIFICATE-----\n" + PEM_BODY + "\n-----END CERTIFICATE-----\n",
        None,
    ),
    ("key-header-only", 'if line.startswith("-----BEGIN RSA PRIVATE KEY-----"):\n', "k.py"),
    ("gpg-key", "ENV GPG_KEY 7169605F62C751356D054A26A821E680E5FA6305\n", "Dockerfile"),
    ("gpg-recv", "gpg --recv-keys 7169605F62C751356D054A26A821E680E5FA6305\n", None),
    ("integrity", f'"integrity": "sha512-{AZURE_KEY}"\n', "package-lock.json"),
    ("image-digest", f"FROM python:3.12@sha256:{HEX40}{HEX40[:24]}\n", "Dockerfile"),
    ("aws-example-id", "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n", None),
    (
        "aws-example-secret",
        "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
        None,
    ),
    ("placeholder-changeme", "DB_PASSWORD=changeme\n", ".env"),
    ("placeholder-env-ref", "DB_PASSWORD=${DB_PASSWORD}\n", ".env"),
    ("placeholder-template", 'password: "{{ vault_db_password }}"\n', "c.yaml"),
    ("placeholder-angle", "API_KEY=<your-api-key>\n", None),
    ("placeholder-your", "API_KEY=your-api-key-here\n", None),
    ("placeholder-stars", 'password: "********"\n', None),
    ("placeholder-xxx", "GITHUB_TOKEN=ghp_" + "x" * 36 + "\n", None),
    ("placeholder-url", "postgres://user:password@localhost:5432/db\n", None),
    ("url-var-password", "postgres://app:${DB_PASSWORD}@db/app\n", None),
    ("url-format-password", 'f"postgresql://{user}:{password}@{host}/db"\n', "a.py"),
    ("url-no-password", "https://user@github.com/acme/repo.git\n", None),
    ("code-reference", 'password = os.environ["DB_PASSWORD"]\n', "a.py"),
    ("code-identifier", "client = Client(api_key=settings.API_KEY)\n", "a.py"),
    ("password-min-length", "PASSWORD_MIN_LENGTH=12\n", ".env"),
    ("token-url", "TOKEN_URL=https://idp.acme.io/oauth/token\n", ".env"),
    ("secret-file", "API_KEY_FILE=/run/secrets/api_key\n", ".env"),
    ("secret-name", "SECRET_NAME=prod/orders/db\n", ".env"),
    ("publishable-key", "STRIPE_PUBLISHABLE_KEY=pk_" + "live_" + rnd(24) + "\n", None),
    ("test-fixture", 'client.post("/login", json={"password": "testpass"})\n', "test_x.py"),
    ("translation", '{"password": "Passwort", "new_password": "Neues Passwort"}\n', "de.json"),
    (
        "jwt-io-example",
        "token = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0"
        ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c'\n",
        "t.py",
    ),
    ("sops", "password: ENC[AES256_GCM,data:abc,iv:def,tag:ghi,type:str]\n", "s.yaml"),
    ("mysql-env-password", 'mysql -uroot -p"$MYSQL_ROOT_PASSWORD"\n', None),
    ("pagination-token", f'next_page_token = "{rnd(32)}"\n', "a.py"),
    ("identifier-value", '"result_key": "adConfigurations"\n', "paginators.json"),
    ("string-concatenation", "self.key = '_local.impl.' + str(id(self))\n", "a.py"),
    ("arn-segment", '"ARN": "arn:aws:secretsmanager:eu-west-1:1:secret:MyDb-a1b2c3"\n', "x.json"),
    ("password-digits", "User(username='alice', password='password1')\n", "a.py"),
    ("timestamp", '"PasswordLastUsed": "2016-09-24T16:18:07Z"\n', "x.json"),
    (
        "sealed-secret",
        "kind: SealedSecret\nspec:\n  encryptedData:\n    password: Ag" + AZURE_KEY + "\n",
        "s.yaml",
    ),
    # password hashes (fixtures, seeds, htpasswd) are not credentials one can log in with
    ("django-pbkdf2", f'"password": "pbkdf2_sha256$870000${rnd(22)}${B64}"\n', "users.json"),
    ("django-pbkdf2-sha1", f'"password": "pbkdf2_sha1$260000${rnd(12, 3)}${B64[:28]}"\n', "u.json"),
    (
        "django-argon2",
        f'"password": "argon2$argon2id$v=19$m=102400,t=2,p=8${rnd(22)}${rnd(22, 5)}"\n',
        "u.json",
    ),
    ("django-bcrypt-sha256", f'"password": "bcrypt_sha256${bcrypt_hash()}"\n', "u.json"),
    ("django-scrypt", f'"password": "scrypt$16384${rnd(22)}$8$1${B64}"\n', "u.json"),
    ("bcrypt-with-dots", f'"password": "{bcrypt_hash()}"\n', "users.json"),
    ("bcrypt-2y", f"password: '{bcrypt_hash('$2y$10$')}'\n", "users.yaml"),
    (
        "argon2-phc",
        f'"password": "$argon2id$v=19$m=65536,t=3,p=4${rnd(22)}${rnd(43, 7)}"\n',
        "u.json",
    ),
    ("passlib-pbkdf2", f"password: $pbkdf2-sha256$29000${rnd(22)}${rnd(43, 9)}\n", "u.yaml"),
    ("werkzeug-pbkdf2", f"password = 'pbkdf2:sha256:600000${rnd(16)}${HEX40}'\n", "seed.py"),
    ("werkzeug-scrypt", f"password = 'scrypt:32768:8:1${rnd(16)}${HEX40}'\n", "seed.py"),
    ("sha512-crypt", f"password: $6$rounds=5000${rnd(16)}${rnd(86, 11)}\n", "u.yaml"),
    ("apr1", f"password: $apr1${rnd(8)}${rnd(22, 13)}\n", "u.yaml"),
    ("yescrypt", f"password: $y$j9T${rnd(22)}${rnd(43, 15)}\n", "u.yaml"),
    ("postgres-md5", f"ALTER ROLE app PASSWORD 'md5{HEX40[:32]}';\n", "seed.sql"),
    (
        "postgres-scram",
        f"ALTER ROLE app PASSWORD 'SCRAM-SHA-256$4096:{B64[:24]}${B64}:{B64}';\n",
        "seed.sql",
    ),
    ("mysql-native-hash", f"password = *{HEX40.upper()}\n", "u.ini"),
    ("email-value", f"notify_password: svc.{rnd(20)}@mail.acme-corp.io\n", "c.yaml"),
    # values that name the variable holding a credential
    ("psql-variable", "CREATE USER app WITH PASSWORD :'ledger_password';\n", "seed.sql"),
    ("snake-name-yaml", "password: analytics_db_password\n", "v.yaml"),
    ("snake-name-json", '{"password": "smtp_relay_password"}\n', "c.json"),
    ("snake-name-token", "token: deploy_bot_token\n", "c.yaml"),
    # notebook lines without a literal credential
    ("notebook-environ-read", nb('api_key = os.environ["ACME_API_KEY"]'), "n.ipynb"),
    ("notebook-getpass", nb('token = getpass("Token: ")'), "n.ipynb"),
    ("notebook-print", nb('print("api_key", api_key)'), "n.ipynb"),
    ("notebook-placeholder", nb('password = "changeme"'), "n.ipynb"),
    # hashing settings
    ("hasher-yaml", "password_hasher: argon2\n", "values.yaml"),
    ("hasher-env", "PASSWORD_HASHER=argon2id\n", ".env"),
    ("hashers-json", '"password_hashers": "bcrypt_sha256",\n', "c.json"),
    ("hashing-tf", 'password_hashing = "scrypt"\n', "x.tfvars"),
    # SQL without a literal password
    ("sql-null-password", "ALTER USER app WITH PASSWORD NULL;\n", "seed.sql"),
    ("sql-bind", 'cur.execute("CREATE USER app WITH PASSWORD %s", (pw,))\n', "m.py"),
    ("sql-identified-bind", "CREATE USER app IDENTIFIED BY :new_password;\n", "init.sql"),
    (
        "sql-identified-hash",
        f"CREATE USER app IDENTIFIED BY PASSWORD '*{HEX40.upper()}';\n",
        "init.sql",
    ),
    (
        "sql-identified-prose",
        "-- a user is identified by email\nSELECT password FROM users;\n",
        "q.sql",
    ),
    # subscripts that read or assemble a credential
    ("subscript-from-var", 'os.environ["DB_PASSWORD"] = password\n', "c.py"),
    ("subscript-read", 'x = settings["api_key"]\n', "c.py"),
    ("subscript-fstring", 'headers["Authorization"] = f"Bearer {token}"\n', "c.py"),
    ("subscript-environ-copy", 'CONFIG["password"] = os.environ["DB_PASSWORD"]\n', "c.py"),
    # base64 values whose text is no secret
    ("b64-certificate", f"    certificate-authority-data: {b64(CERT_PEM)}\n", "kubeconfig"),
    ("b64-username", f"data:\n  username: {b64('app-service-user')}\n", "s.yaml"),
    (
        "b64-url-no-password",
        f"data:\n  DATABASE_URL: {b64('postgres://db.internal:5432/app')}\n",
        "s.yaml",
    ),
    (
        "b64-placeholder-url",
        f"data:\n  url: {b64('postgres://user:password@localhost/db')}\n",
        "s.yaml",
    ),
    (
        "b64-json",
        f"data:\n  config.json: {b64(json.dumps({'region': 'eu-west-1', 'n': 3}))}\n",
        "s.yaml",
    ),
    ("b64-echoed-placeholder", f"data:\n  password: {b64('changeme' + chr(10))}\n", "s.yaml"),
    # shell PWD is the working directory
    ("pwd-dotenv", f"PWD={PASSWORD}\n", ".env"),
    ("pwd-export", f"export PWD={PASSWORD}\n", "x.sh"),
    ("pwd-compose", f"    environment:\n      - PWD={PASSWORD}\n", "docker-compose.yml"),
    ("pwd-shell-ref", 'cd "$PWD/build" && ls\n', "x.sh"),
    ("pwd-upper-json", '{"env": {"PWD": "/srv/app"}}\n', "c.json"),
    ("pwd-code", 'cwd = {"pwd": os.getcwd()}\n', "a.py"),
    # references and templates
    ("env-reference-json", '"smtp_password": "env:SMTP_PASSWORD",\n', "appsettings.json"),
    ("env-reference-ini", "smtp_password=env:SMTP_PASSWORD\n", "my.cnf"),
    ("printf-url", 'url = "postgres://%s:%s@%s/app" % (user, pw, host)\n', "a.py"),
    ("printf-password", 'password: "%s"\n', "t.yaml"),
    ("printf-suffix", 'DB_PASSWORD="pw_%s"\n', "x.sh"),
    ("expansion-required", 'export SMTP_PASSWORD="${SMTP_PASSWORD:?missing}"\n', "r.sh"),
    ("expansion-required-message", 'TOKEN="${API_TOKEN:?set API_TOKEN first}"\n', "r.sh"),
    ("expansion-alternate", 'ARGS="${API_TOKEN:+--token=$API_TOKEN}"\n', "r.sh"),
    ("expansion-placeholder-default", "DB_PASSWORD: ${DB_PASSWORD:-changeme}\n", "compose.yml"),
    # kubeadm's documented example token
    ("bootstrap-doc-example", "token: abcdef.0123456789abcdef\n", "kubeadm.yaml"),
    # Python import paths under credential names: Django models, classes
    (
        "django-token-model",
        'OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"\n',
        "settings.py",
    ),
    ("django-id-token-model", 'OAUTH2_ID_TOKEN_MODEL = "oauth2_provider.IDToken"\n', "s.py"),
    ("token-backend-path", 'AUTH_TOKEN_BACKEND = "myapp.auth.tokens.JWTBackend"\n', "s.py"),
    # form bodies and query strings: each value ends at `&`
    (
        "form-body-variable-names",
        'payload = "client_id=app_id&client_secret=app_secret&token=tokstr"\n',
        "tests/test_backends.py",
    ),
    # an HTTP Basic header whose value is no base64 `user:password`: a malformed-header test
    ("basic-not-base64", 'h = {"HTTP_AUTHORIZATION": "Basic not_base64"}\n', "tests/t.py"),
    (
        "form-body-weak-password",
        'body = "grant_type=password&username=john&password=123456&client_id=app"\n',
        "t.py",
    ),
]


@pytest.mark.parametrize(("case", "text", "kind", "path"), POSITIVES, ids=[p[0] for p in POSITIVES])
def test_detects_each_format(case: str, text: str, kind: str, path: str | None) -> None:
    matches = scan_text(text, path=path)
    assert [m.kind for m in matches] == [kind], case
    match = matches[0]
    assert kind in KINDS
    line = text.split("\n")[match.line - 1]
    assert line[match.column - 1 :].startswith(match.value[:8])
    assert match.value not in repr(match) and match.value not in str(match)
    assert match.value not in match.redacted


@pytest.mark.parametrize(("case", "text", "path"), DECOYS, ids=[d[0] for d in DECOYS])
def test_ignores_decoys(case: str, text: str, path: str | None) -> None:
    assert scan_text(text, path=path) == [], case


def test_positions_are_one_based_line_and_column() -> None:
    text = "# settings\nLOG=info\n  GITHUB_TOKEN=" + GITHUB + "\n"
    (match,) = scan_text(text)
    assert (match.line, match.column) == (3, len("  GITHUB_TOKEN=") + 1)


def test_aws_example_suppressed_only_when_exact() -> None:
    assert scan_text("id: AKIAIOSFODNN7EXAMPLE\n") == []
    near = "AKIAIOSFODNN7EXAMPL" + "F"
    assert [m.kind for m in scan_text(f"id: {near}\n")] == ["aws-access-key-id"]


def test_redaction_and_fingerprint() -> None:
    match = scan_value(GITHUB)
    assert match is not None
    assert match.redacted.startswith("ghp_…[sha256:")
    assert match.redacted == redact(GITHUB)
    assert GITHUB[4:12] not in match.redacted
    assert len(match.fingerprint) == 64
    again = scan_text(f"x {GITHUB}")[0]
    assert again.fingerprint == match.fingerprint  # position does not matter
    other = SecretMatch("other-kind", "", 1, 1, GITHUB)
    assert other.fingerprint != match.fingerprint
    assert "hunt" not in redact("hunter22")
    assert redact("").startswith("…[sha256:")


@pytest.mark.parametrize(
    ("value", "name", "kind"),
    [
        (AWS_ID, "AWS_ACCESS_KEY_ID", "aws-access-key-id"),
        (PASSWORD, "DB_PASSWORD", "password-assignment"),
        (f'"{PASSWORD}"', "POSTGRES_PASSWORD", "password-assignment"),
        (rnd(32, 7), "API_KEY", "high-entropy-assignment"),
        (AWS_SECRET, "AWS_SECRET_ACCESS_KEY", "aws-secret-access-key"),
        (f"postgres://a:{PASSWORD}@db/x", "DATABASE_URL", "url-password"),
        (GITHUB, None, "github-token"),
    ],
)
def test_scan_value_positive(value: str, name: str | None, kind: str) -> None:
    match = scan_value(value, name)
    assert match is not None and match.kind == kind
    assert (match.line, match.column) == (1, 1)


@pytest.mark.parametrize(
    ("value", "name"),
    [
        ("", "NPM_TOKEN"),
        ("changeme", "DB_PASSWORD"),
        ("${NPM_TOKEN}", "NPM_TOKEN"),
        ("$NPM_TOKEN", "NPM_TOKEN"),
        ("/run/secrets/db", "DB_PASSWORD_FILE"),
        (PASSWORD, "USERNAME"),
        ("7169605F62C751356D054A26A821E680E5FA6305", "GPG_KEY"),
        (rnd(32), None),
        ("production", "APP_ENV"),
    ],
)
def test_scan_value_negative(value: str, name: str | None) -> None:
    assert scan_value(value, name) is None


@pytest.mark.parametrize(
    "name",
    [
        "PASSWORD", "DB_PASS", "API_KEY", "AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN", "JWT_SECRET",
        "apiKey", "clientSecret", "db.password", "x-api-key", "_authToken",
        "MYSQL_ROOT_PASSWORD", "SECRET_KEY_BASE", "KEY", "requirepass", "PRIVATE_KEY",
        # an access key that is the secret: Azure's, or a service's only key
        "ACCESS_KEY", "AZURE_STORAGE_ACCESS_KEY", "MINIO_SECRET_KEY",
    ],
)  # fmt: skip
def test_credential_names(name: str) -> None:
    assert is_credential_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "USERNAME", "NPM_TOKEN_FILE", "DB_PASSWORD_FILE", "KMS_KEY_ID", "GOPRIVATE", "GPG_KEY",
        "JWT_PUBLIC_KEY", "SSH_KEY_FINGERPRINT", "TOKEN_URL", "PASSWORD_MIN_LENGTH",
        "SECRET_NAME", "CERT_PATH", "SECRETS_DIR", "REDIS_HOST", "PWD", "PASSWORD_HASH",
        "next_page_token", "secretKeyRef", "CACHE_KEY", "max_tokens", "BYPASS",
        # the id half of an S3-style key pair (MinIO's root user name): the secret key is
        # the credential; a real AKIA id is still found by its format
        "AWS_ACCESS_KEY_ID", "MINIO_ACCESS_KEY", "S3_ACCESS_KEY", "accessKeyId",
    ],
)  # fmt: skip
def test_non_credential_names(name: str) -> None:
    assert not is_credential_name(name)


@pytest.mark.parametrize(
    "value",
    [
        "", "changeme", "CHANGE_ME", "xxx", "xxxxxxxxxxxx", "<token>", "${VAR}", "$VAR",
        "{{ var }}", "{{ .Values.password }}", "your-api-key-here", "example", "dummy", "test",
        "redacted", "***", "password", "P@ssw0rd", "mysecretpassword", "<insert key>",
        "%(password)s", "AKIAIOSFODNN7EXAMPLE", "1234567890", "null",
    ],
)  # fmt: skip
def test_placeholders(value: str) -> None:
    assert looks_like_placeholder(value)


@pytest.mark.parametrize("value", [PASSWORD, rnd(24), AWS_SECRET, HEX40, "Falcon#4437avg"])
def test_real_values_are_not_placeholders(value: str) -> None:
    assert not looks_like_placeholder(value)


@pytest.mark.parametrize(
    ("relpath", "head", "kind"),
    [
        (".env", b"", "dotenv"),
        ("svc/.env.production", b"X=1\n", "dotenv"),
        ("db.env", b"X=1\n", "dotenv"),
        (".env.example", b"X=1\n", None),
        (".env.sample", b"", None),
        (".env.template", b"", None),
        (".env.dist", b"", None),
        ("deploy/key", OPENSSH_KEY.encode(), "ssh-private-key"),
        ("backup/blob", RSA_KEY.encode(), "private-key"),
        ("home/.ssh/id_ed25519", b"", "ssh-private-key"),
        ("home/.ssh/id_rsa.pub", b"ssh-rsa AAAA me@host", None),
        ("tls/server.key", RSA_KEY.encode(), "private-key"),
        ("tls/server.pem", b"-----BEGIN CERTIFICATE-----\nMIIB\n", None),
        ("tls/bundle.p12", b"\x30\x82\x01\x00", "pkcs12"),
        ("home/.aws/credentials", b"[default]\naws_secret_access_key = x\n", "aws-credentials"),
        (".npmrc", b"registry=https://registry.npmjs.org/\n", None),
        (".npmrc", b"//npm.pkg.github.com/:_authToken=${GITHUB_TOKEN}\n", None),
        (".npmrc", f"//registry.npmjs.org/:_authToken={NPM}\n".encode(), "npmrc-auth"),
        (".pypirc", b"[pypi]\nusername = __token__\n", None),
        (".pypirc", f"[pypi]\npassword = {PYPI}\n".encode(), "pypirc-auth"),
        (".netrc", f"machine h login u password {PASSWORD}\n".encode(), "netrc"),
        (
            ".docker/config.json",
            b'{"auths": {"r.io": {"auth": "dXNlcjpwYXNzd29yZA=="}}}',
            "docker-config-auth",
        ),
        (".docker/config.json", b'{"credsStore": "desktop"}', None),
        (
            ".kube/config",
            b"apiVersion: v1\nkind: Config\nusers:\n- name: a\n  user:\n    token: abc\n",
            "kubeconfig",
        ),
        ("infra/terraform.tfstate", b"{}", "terraform-state"),
        (
            "sa.json",
            json.dumps({"type": "service_account", "private_key": RSA_KEY}).encode(),
            "gcp-service-account",
        ),
        (".git-credentials", b"https://u:p@github.com\n", "git-credentials"),
        ("conf/.htpasswd", b"admin:$apr1$abc$def\n", "htpasswd"),
        ("README.md", b"# hello\n", None),
        ("app/config.json", b'{"debug": true}', None),
    ],
)
def test_credential_file_kind(relpath: str, head: bytes, kind: str | None) -> None:
    assert credential_file_kind(relpath, head) == kind


def test_is_binary() -> None:
    assert is_binary(b"\x7fELF\x02\x01\x01\x00\x00")
    assert is_binary(bytes(range(256)))
    assert not is_binary(b"FROM python:3.12\nRUN echo hi\n")
    assert not is_binary("caf\u00e9 \u2013 ok\n".encode())
    assert not is_binary(b"")


def test_max_scan_bytes() -> None:
    assert MAX_SCAN_BYTES >= 1024 * 1024


def test_a_megabyte_of_code_without_secrets_is_clean() -> None:
    chunk = (
        "import os\n"
        "def handler(event, key=None):\n"
        "    token = event.get('token')  # refreshed by the caller\n"
        f"    digest = '{HEX40}'\n"
        "    password = os.environ['DB_PASSWORD']\n"
        "    return {'statusCode': 200, 'body': json.dumps(event)}\n"
    )
    text = chunk * (1_000_000 // len(chunk))
    # the answer only: bench/secrets_corpus.py measures the time
    assert scan_text(text, path="handler.py") == []


def test_giant_userinfo_shape_is_no_url_password() -> None:
    hostile = "a" * 50_000 + ":" + "b" * 50_000 + "@" * 3
    # a user:password@ shape 100 KB long is no URL password; the time is benched
    assert scan_text("postgres://" + hostile + "\npassword=" + "=" * 50_000) == []


def test_encoded_secret_is_reported_on_the_encoded_value() -> None:
    encoded = b64(RSA_KEY)
    text = f"apiVersion: v1\nkind: Config\nusers:\n- user:\n    client-key-data: {encoded}\n"
    (match,) = scan_text(text, path="kubeconfig")
    assert (match.kind, match.line, match.column) == ("private-key", 5, 22)
    assert match.value == encoded
    assert match.description.endswith("(base64-encoded)")


def test_decoding_is_bounded() -> None:
    values = "".join(f"  k{i}: {b64(f'https://host{i}.internal/p')}\n" for i in range(2000))
    text = values + "  huge: " + base64.b64encode(bytes(range(256)) * 3000).decode() + "\n"
    assert scan_text(text, path="cm.yaml") == []


def test_minified_one_line_file_of_short_values_is_clean() -> None:
    """A 300 KB single-line JSON full of credential-like keys (bundles, notebooks) once took
    minutes: the look-behind of every keyword spanned the whole line."""
    line = json.dumps({f"token_{i}": f"v{i}" for i in range(20_000)})
    assert scan_text(line, path="bundle.json") == []  # `v1`... are no secrets


# --------------------------------------------------------------------------- shown lines

SHOWN_PASSWORD = "Qv" + "8mZt2Lx"


@pytest.mark.parametrize(
    ("line", "hidden"),
    [
        # example.com hosts and placeholders are skipped by the detector, never by a shown line
        (f"RUN psql postgres://admin:{SHOWN_PASSWORD}@db.example.com:5432/app", SHOWN_PASSWORD),
        ("RUN psql postgres://admin:PASS@db.example.com:5432/app", ":PASS@"),
        (f"HEALTHCHECK CMD curl -f http://admin:{SHOWN_PASSWORD}@localhost/health", SHOWN_PASSWORD),
        ("ENV DB_PASSWORD=changeme", "changeme"),
        ("ENV DB_PASSWORD changeme", "changeme"),
        (
            f"ENV A=1 AWS_SECRET_ACCESS_KEY={'wJalrXUtnFEMI/K7MDENG/bPxRfiCY' + 'EXAMPLEKEY'}",
            "bPxR",
        ),
        (f'CMD ["app", "--password", "{SHOWN_PASSWORD}"]', SHOWN_PASSWORD),
        (f"CMD app --api-token={SHOWN_PASSWORD} --user bob", SHOWN_PASSWORD),
        (
            f'RUN echo "{SHOWN_PASSWORD}" | docker login -u bot --password-stdin reg.io',
            SHOWN_PASSWORD,
        ),
        (f"RUN curl -u deploy:{SHOWN_PASSWORD} https://files.acme.io/a", SHOWN_PASSWORD),
        (f'RUN curl -H "Authorization: Bearer {SHOWN_PASSWORD}x" https://a.io', SHOWN_PASSWORD),
        (f'RUN mysql -u root -p{SHOWN_PASSWORD} -e "select 1"', SHOWN_PASSWORD),
        (f"    password: '{SHOWN_PASSWORD}'", SHOWN_PASSWORD),
        (f'  "api_key": "{SHOWN_PASSWORD}"', SHOWN_PASSWORD),
        (f"LABEL com.acme.notify={SLACK_BOT}", SLACK_BOT[5:]),
        (PEM_BODY.splitlines()[0], PEM_BODY.splitlines()[0][4:]),
        ("-----BEGIN OPENSSH PRIVATE" + " KEY-----\\nb3BlbnNzaC1rZXktdjEAAAAA", "b3Blbn"),
        (f"RUN SECRET_KEY=build-{SHOWN_PASSWORD} ./manage.py collectstatic", SHOWN_PASSWORD),
        (f"  token: {rnd(28, 4)}", rnd(28, 4)),
        (f"RUN wget https://h.io/f?sig={rnd(40, 6)}", rnd(40, 6)),
    ],
)
def test_shown_lines_hide_credential_values(line: str, hidden: str) -> None:
    from dockwise.secrets import redact_source_line

    shown = redact_source_line(line)
    assert hidden not in shown
    assert "…[sha256:" in shown


@pytest.mark.parametrize(
    "line",
    [
        "FROM python:3.11-slim@sha256:" + "0a1b2c3d4e5f6071" * 4,
        "RUN curl -fsSL https://github.com/GoogleCloudPlatform/microservices-demo/releases/v0.8.0/a.yaml",
        "RUN pip install --no-cache-dir -r requirements.txt && python -m compileall /usr/lib/python3.11",
        "ENV GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D",
        "ENV PYTHON_SHA256=" + "8fb5f9fbc7609fa8" * 4,
        "ENV SECRET_KEY=${SECRET_KEY:-} DEBUG=false TOKEN=$TOKEN",
        "RUN psql postgres://${PGUSER}:${PGPASSWORD}@db:5432/app",
        "RUN adduser --disabled-password --gecos '' app",
        "RUN useradd --uid 10001 --password-file /run/secrets/pw app",
        "ENV GOOGLE_APPLICATION_CREDENTIALS=/run/secrets/gcp.json",
        "RUN docker build --secret id=npm_token,env=NPM_TOKEN .",
        "RUN echo 'app ALL=(ALL) NOPASSWD: ALL' >> /etc/sudoers",
        "        - key: tls.key",
        "          topologyKey: kubernetes.io/hostname",
        "        - --max-num-batched-tokens=8192",
        "  imagePullSecrets: {{ toYaml .Values.pullSecrets }}",
        "ENV download_url=https://download.microsoft.com/download/6/E/4/6E406E38-0A01-4DD1-B85E-6CA7CF79C8F7/x64/DacFramework.msi",
        "    Set-Property -filter 'system.applicationHost/log/centralW3CLogFile' -value 42",
        "# Setup some basic environment variables that never change.",
        "RUN curl -s -H 'Authorization: Bearer ${TOKEN}' https://api.acme.io",
    ],
)
def test_shown_lines_stay_readable(line: str) -> None:
    from dockwise.secrets import redact_source_line

    assert redact_source_line(line) == line


def test_prose_leaves_names_followed_by_words() -> None:
    from dockwise.secrets import redact_source_line

    message = "ENV DB_PASSWORD in stage 0 holds a literal password (ch…[sha256:0a1b2c3d])"
    assert redact_source_line(message, prose=True) == message
    leaked = f"pip install git+https://deploy:{SHOWN_PASSWORD}@git.example.com/lib.git"
    assert SHOWN_PASSWORD not in redact_source_line(leaked, prose=True)


@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_no_format_prints_an_unflagged_credential(
    fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rules that are not about secrets fire on these lines; the detector itself skips the
    example.com password, so only the shown-line redaction keeps it out of the report."""
    from dockwise.cli import main

    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.11-slim\n"
        f"RUN psql postgres://admin:{SHOWN_PASSWORD}@db.example.com:5432/app -c 'select 1' "
        "&& apt-get update\n"
        f"RUN pip install git+https://deploy:{SHOWN_PASSWORD}@git.example.com/lib.git\n"
        f"HEALTHCHECK CMD curl -f http://admin:{SHOWN_PASSWORD}@localhost:8000/health\n"
    )
    main(["check", str(tmp_path), "--format", fmt, "--fail-on", "never"])
    output = capsys.readouterr().out
    assert "DW1" in output or "DW9" in output  # other rules did report on those lines
    assert SHOWN_PASSWORD not in output


@pytest.mark.parametrize(
    ("text", "path", "value"),
    [
        (f'u = "https://api.acme.io/cb?token={rnd(20)}&page=2"\n', "a.py", rnd(20)),
        (f'body = "a=1&client_secret={rnd(20)}&x=1"\n', "a.py", rnd(20)),
        (f'API_TOKEN = "{rnd(6)}.{rnd(9, 3)}"\n', "a.py", f"{rnd(6)}.{rnd(9, 3)}"),
    ],
)
def test_query_values_and_random_dotted_values_still_found(
    text: str, path: str, value: str
) -> None:
    assert [m.value for m in scan_text(text, path=path)] == [value]


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("DEBUG = True\nSECRET_KEY = 'django-insecure-{key}'\n", "settings.py"),
        (
            '    environment:\n      - "DJANGO_DEBUG=True"\n'
            '      - "DJANGO_SECRET_KEY=django-insecure-{key}"\n',
            "docker-compose.yml",
        ),
    ],
)
def test_django_startproject_key_beside_debug_on_is_low_confidence(text: str, path: str) -> None:
    key = rnd(40)
    (match,) = scan_text(text.format(key=key), path=path)
    assert match.confidence == "low"
    (alone,) = scan_text(f"SECRET_KEY = 'django-insecure-{key}'\nDEBUG = False\n", path=path)
    assert alone.confidence == "high"


def test_an_access_key_id_is_found_by_its_format_not_its_name() -> None:
    found = scan_value(AWS_ID, "AWS_ACCESS_KEY_ID")
    assert found is not None and found.kind == "aws-access-key-id"
    assert scan_value("minio-root-user", "MINIO_ACCESS_KEY") is None


@pytest.mark.parametrize(
    ("value", "made_up"),
    [
        ("8312341g-5678-abcd-4a2b2c-33bcsd655", True),  # letters past f, wrong groups, runs
        ("12345678-1234-abcd-1234-1234567890ab", False),  # UUID-shaped hex: left to the rest
        ("f47ac10b-58cc-4372-a567-0e02b2c3d479", False),  # a real UUID
        ("9a8f2k1x-q7w3-m4n5-z8y2-p0o9i8u7y6t5", False),  # no counted run
    ],
)
def test_hand_typed_uuid_is_a_placeholder(value: str, made_up: bool) -> None:
    assert _made_up_uuid(value) is made_up
    if made_up:
        assert looks_like_placeholder(value)
        assert scan_value(value, "ACCESS_KEY") is None


def test_basic_credential_found_with_or_without_padding() -> None:
    encoded = base64.b64encode(f"deploy:{PASSWORD}".encode()).decode()
    for value in (encoded, encoded.rstrip("=")):
        text = f'headers = {{"Authorization": "Basic {value}"}}\n'
        assert [m.value for m in scan_text(text, path="client.py")] == [value]


def test_a_letter_that_lowers_to_two_characters_shifts_no_offset() -> None:
    """`İ`.lower() is two characters: keywords looked for in a lowered copy of the text
    were placed after it by one character per `İ` (a missed password; an IndexError, so an
    internal error, near the end of a text)."""
    line = 'x = "İİİİİİİİİİİİ"; password = "Zk3v9Q2mX8pLr7Tw"\n'
    [found] = scan_text(line, path="settings.py")
    assert (found.kind, found.line, found.column) == ("password-assignment", 1, 33)
    assert line[found.column - 1 :].startswith("Zk3v9Q2mX8pLr7Tw")
    assert list(scan_text("İ" * 40 + "\nAPI_TOKEN: Zk3v9Q2mX8pLr7TwQa91\n", path="a.py")) == []
