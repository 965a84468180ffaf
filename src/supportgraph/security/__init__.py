"""Safety checks shared by the input guard, the output guard, the knowledge base and the displays.

- ``text``: any input made into valid, printable Unicode (never raises), and a folded form for detectors.
- ``markup``: links, images and HTML in markdown; outside hosts shown as plain text.
- ``secrets``: requests for a secret (password, card number, security code, 2FA/recovery code, token).
- ``injection``: prompt-injection detection, rules plus a small shipped classifier.
"""
