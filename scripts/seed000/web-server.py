"""Jellyfin's stand-in for seed 000: python's http.server serving a directory.

    python3 -u web-server.py ADDR PORT DIR

Access log on stderr, one line per request: 'ADDR - - [date] "GET / HTTP/1.1" 200 -'.
"""
import functools
import http.server
import socketserver
import sys


class Server(http.server.ThreadingHTTPServer):
    # HTTPServer.server_bind looks its own name up (socket.getfqdn), a DNS query that hangs for
    # seconds in a namespace with a default route but no resolver: bind without it.
    def server_bind(self):
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


addr, port, root = sys.argv[1], int(sys.argv[2]), sys.argv[3]
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=root)
Server((addr, port), handler).serve_forever()
