/* security.h - the response headers that belong to the application (TLS
 * and HSTS stay httpd's).  Set on err_headers_out so error answers carry
 * them too. */
#ifndef LENZ_SECURITY_H
#define LENZ_SECURITY_H

#include "lenz.h"

void lenz_security_headers(request_rec *r, int api);

#endif
