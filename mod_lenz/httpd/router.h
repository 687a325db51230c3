/* router.h - per-area route tables and dispatch.
 *
 * Each feature area is a content handler (SetHandler lenz-<area>) with a
 * table of routes: methods + a path pattern relative to the area's base
 * (LenzBase, or the <Location> path) + a function + who may call it.
 * Patterns are literal segments and {name} placeholders that match one
 * non-empty segment: "/guest/initiate", "/{token}", "/{token}/otp".
 * A path that matches no pattern is 404; one that matches with another
 * method is 405 with Allow; OPTIONS answers 204 with Allow.
 */
#ifndef LENZ_ROUTER_H
#define LENZ_ROUTER_H

#include "lenz.h"
#include "config.h"

#define LENZ_M(m) (AP_METHOD_BIT << (m))
#define LENZ_GET     LENZ_M(M_GET)      /* GET also answers HEAD */
#define LENZ_POST    LENZ_M(M_POST)
#define LENZ_PUT     LENZ_M(M_PUT)
#define LENZ_DELETE  LENZ_M(M_DELETE)
#define LENZ_PATCH   LENZ_M(M_PATCH)

/* Who may call a route: checked by the one policy point in router.c. */
typedef enum {
    LENZ_ACCESS_PUBLIC = 0,   /* anyone, guests included */
    LENZ_ACCESS_MEMBER,       /* a signed-in account */
    LENZ_ACCESS_LAB,          /* photo-lab staff */
    LENZ_ACCESS_ADMIN         /* administrators */
} lenz_access;

#define LENZ_MAX_PARAMS 4

typedef struct lenz_req lenz_req;
typedef int lenz_route_fn(request_rec *r, lenz_req *lr);

typedef struct lenz_route {
    apr_int64_t methods;
    const char *pattern;
    lenz_route_fn *fn;
    lenz_access access;
} lenz_route;

/* A prepared SQL statement an area needs, registered with mod_dbd. */
typedef struct lenz_stmt {
    const char *label;
    const char *sql;
} lenz_stmt;

typedef struct lenz_area {
    const char *handler;          /* "lenz-status" */
    const char *name;             /* "status" (metrics label) */
    /* Route tables (each ends with { 0 }), NULL-terminated: an area such
     * as the API gathers tables from several files. */
    const lenz_route *const *routes;
    const lenz_stmt *stmts;       /* ends with { NULL }, or NULL */
    int api;                      /* errors always as problem+json */
} lenz_area;

/* What a route function gets besides r. */
struct lenz_req {
    const lenz_area *area;
    const lenz_route *route;
    lenz_srv_cfg *srv;
    lenz_dir_cfg *dir;
    const char *path;             /* path below the base, starts with '/' */
    int nparams;
    const char *pname[LENZ_MAX_PARAMS];
    const char *pval[LENZ_MAX_PARAMS];
    apr_time_t start;
    apr_off_t bytes_in;           /* request body bytes read (metrics) */
    struct lenz_user *user;       /* the caller (auth.c), once resolved */
    int auth_done;
    int csrf_pending;             /* a form must carry a valid "csrf" field */
    int remote_link;              /* REMOTE_USER is new, but its address has an
                                     account: the owner must link it (auth.c) */
    apr_table_t *form;            /* the form, once read (body.c) */
    void *ctx;                    /* the area's own, for this request */
    struct json_object *json;     /* the JSON body (a lenz_json), once read (body.c) */
    struct lenz_idem *idem;       /* the Idempotency-Key this request holds (idem.c) */
};

/* Every area, for hook registration and statement preparation. */
extern const lenz_area *const lenz_areas[];
/* Statements of shared services (keystore, jobs, events), NULL-terminated. */
extern const lenz_stmt *const lenz_shared_stmts[];

/* The content handler shared by all areas. */
int lenz_router_handler(request_rec *r);

/* A path parameter by name, or NULL. */
const char *lenz_param(const lenz_req *lr, const char *name);

/* The area serving this request, or NULL when it is not ours. */
const lenz_area *lenz_area_of(const request_rec *r);

/* Unit-testable matcher: does path match pattern?  Fills params. */
int lenz_route_match(apr_pool_t *p, const char *pattern, const char *path,
                     lenz_req *lr);

#endif
