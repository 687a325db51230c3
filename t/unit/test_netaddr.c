/* Client addresses as rate-limit keys: IPv4 whole, IPv6 by its /64, and
 * IPv4-mapped IPv6 as the IPv4 address. */
#include <apr_general.h>
#include "tap.h"
#include "netaddr.h"

int main(void)
{
    apr_pool_t *p;
    static const struct { const char *in, *want; } cases[] = {
        { "192.0.2.1", "192.0.2.1" },
        { "127.0.0.1", "127.0.0.1" },
        { "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64" },
        { "2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64" },
        { "2001:DB8:1:2::1", "2001:db8:1:2::/64" },
        { "::1", "::/64" },
        { "fe80::1", "fe80::/64" },
        { "::ffff:192.0.2.7", "192.0.2.7" },
        { "not-an-address", "not-an-address" },
        { "1:2:3", "1:2:3" },
        { "", "" },
    };
    unsigned i;
    apr_initialize();
    apr_pool_create(&p, NULL);
    plan((int)(sizeof(cases) / sizeof(cases[0])) + 2);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        is_str(lenz_addr_rate_key(p, cases[i].in), cases[i].want, "%s", cases[i].in);
    ok(lenz_addr_rate_key(p, NULL) == NULL, "NULL stays NULL");
    is_str(lenz_addr_rate_key(p, "2001:db8:1:2::a"), lenz_addr_rate_key(p, "2001:db8:1:2:ffff::b"),
           "two addresses of one /64 share a key");
    apr_pool_destroy(p);
    apr_terminate();
    return done_testing();
}
