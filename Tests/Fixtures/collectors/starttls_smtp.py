#!/usr/bin/env python3
"""A tiny SMTP server on 127.0.0.1 that speaks just enough to start TLS, for x509_cert's smtp:// sources.

    starttls_smtp.py CERTFILE KEYFILE [--refuse] [--no-ehlo]

CERTFILE holds the leaf then its chain (PEM). The server picks a free port and prints it on the first line of
stdout, then serves connections one after the other: a 220 greeting, 250 to EHLO (or 502 with --no-ehlo, and 250
to HELO), 220 to STARTTLS (454 with --refuse) and the TLS handshake. Each command it received is printed on a line of
its own (`got EHLO localhost`), so a test can check the dialogue.
"""
import socket
import ssl
import sys


def main():
    certfile, keyfile = sys.argv[1], sys.argv[2]
    refuse = "--refuse" in sys.argv
    no_ehlo = "--no-ehlo" in sys.argv
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certfile, keyfile)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    print(listener.getsockname()[1], flush=True)
    while True:
        conn, _ = listener.accept()
        try:
            serve(conn, context, refuse, no_ehlo)
        except (OSError, ssl.SSLError) as error:
            print(f"error {error}", flush=True)
        finally:
            conn.close()


def serve(conn, context, refuse, no_ehlo):
    reader = conn.makefile("rb")
    conn.sendall(b"220 mail.test ESMTP ready\r\n")
    while True:
        line = reader.readline()
        if not line:
            return
        command = line.decode().strip()
        print(f"got {command}", flush=True)
        verb = command.split(" ")[0].upper()
        if verb == "EHLO":
            if no_ehlo:
                conn.sendall(b"502 5.5.2 EHLO not understood\r\n")
            else:
                conn.sendall(b"250-mail.test greets you\r\n250-SIZE 1000000\r\n250 STARTTLS\r\n")
        elif verb == "HELO":
            conn.sendall(b"250 mail.test\r\n")
        elif verb == "STARTTLS":
            if refuse:
                conn.sendall(b"454 4.7.0 TLS not available\r\n")
                continue
            conn.sendall(b"220 2.0.0 go ahead\r\n")
            tls = context.wrap_socket(conn, server_side=True)
            print("handshake done", flush=True)
            tls.close()
            return
        elif verb == "QUIT":
            conn.sendall(b"221 bye\r\n")
            return
        else:
            conn.sendall(b"502 5.5.2 not implemented\r\n")


if __name__ == "__main__":
    main()
