/* err.c - names for the core's status codes. */
#include "err.h"

const char *lenz_strerror(apr_status_t rv)
{
    switch (rv) {
    case APR_SUCCESS:    return "ok";
    case LENZ_EAUTH:     return "authentication failed";
    case LENZ_EFORMAT:   return "malformed input";
    case LENZ_ETOOBIG:   return "limit exceeded";
    case LENZ_EEXPIRED:  return "expired";
    case LENZ_ECRYPTO:   return "crypto library error";
    case LENZ_EUPSTREAM: return "upstream error";
    case LENZ_ETIMEOUT:  return "timed out";
    case LENZ_ENOTFOUND: return "not found";
    case LENZ_ECONFLICT: return "conflict";
    case LENZ_EUNAVAIL:  return "unavailable";
    case APR_EINVAL:     return "invalid argument";
    case APR_ENOMEM:     return "out of memory";
    case APR_EOF:        return "end of file";
    default:             return "error";
    }
}
