/* netaddr.c - client addresses as rate-limit keys (netaddr.h). */
#include <string.h>
#include <arpa/inet.h>
#include <apr_strings.h>

#include "netaddr.h"

const char *lenz_addr_rate_key(apr_pool_t *p, const char *ip)
{
    unsigned char a[16];
    char buf[INET6_ADDRSTRLEN];
    static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

    if (!ip || !strchr(ip, ':') || inet_pton(AF_INET6, ip, a) != 1)
        return ip;
    if (memcmp(a, mapped, sizeof(mapped)) == 0)
        return inet_ntop(AF_INET, a + 12, buf, sizeof(buf)) ? apr_pstrdup(p, buf) : ip;
    memset(a + 8, 0, 8);
    if (!inet_ntop(AF_INET6, a, buf, sizeof(buf)))
        return ip;
    return apr_pstrcat(p, buf, "/64", NULL);
}
