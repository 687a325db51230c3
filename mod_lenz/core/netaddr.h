/* netaddr.h - client addresses as rate-limit keys.
 *
 * One IPv4 address is one key.  An IPv6 client usually holds a whole /64
 * (SLAAC, privacy addresses, one prefix per customer), so keying by the
 * full address would give it 2^64 budgets: IPv6 addresses are keyed by
 * their /64.  IPv4-mapped IPv6 (::ffff:192.0.2.1) is the IPv4 address. */
#ifndef LENZ_NETADDR_H
#define LENZ_NETADDR_H

#include <apr_pools.h>

/* The key for ip (text form), from p: "192.0.2.1", "2001:db8:1:2::/64";
 * anything that is not an address is returned as given. */
const char *lenz_addr_rate_key(apr_pool_t *p, const char *ip);

#endif
