/* netread.h - bigger reads from clients' sockets.
 *
 * httpd's socket bucket reads at most 8000 bytes per recv(): a 1 GiB
 * upload is 134,000 system calls, and on loopback each small read also
 * turns the sender's TCP work around in our time.  For connections of a
 * server where mod_lenz is configured, the insert_network_bucket hook puts
 * in our own socket bucket instead, which behaves the same (blocking and
 * non-blocking reads, EOF, errors) but grows its reads while they come
 * back full, up to LenzNetworkRead (default 256K), and falls back to 8000
 * bytes when they come back small, so idle and small requests cost what
 * they did.  `LenzNetworkRead off` leaves httpd's bucket in place.
 */
#ifndef LENZ_NETREAD_H
#define LENZ_NETREAD_H

#include "lenz.h"

#define LENZ_NET_READ_MIN     8192
#define LENZ_NET_READ_MAX     (1024 * 1024)
#define LENZ_NET_READ_DEFAULT (256 * 1024)

/* The body being read on r's connection has n more bytes to come, all of
 * them on the socket (a Content-Length body, nothing of it buffered above):
 * until the request ends, a read waits for min(n, LenzNetworkRead) bytes
 * before it wakes, instead of waking for each packet (SO_RCVLOWAT); n = 0
 * ends that now.  A wait that lasts 100 ms turns it off for the rest of the
 * request: a slow client is read as it sends.  A no-op for connections
 * without our bucket, for HTTP/2 streams and under TLS. */
void lenz_net_expect(request_rec *r, apr_off_t n);

/* The hook (registered in mod_lenz.c). */
apr_status_t lenz_net_insert(conn_rec *c, apr_bucket_brigade *bb, apr_socket_t *sock);

#endif
