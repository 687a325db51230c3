/* h_upload.c - lenz-upload, mounted at /upload: the seed's routes that
 * existing Lenzeye browser and Android clients use (guests), the same for
 * signed-in members, and the /api/v1/uploads table for new clients. */
#include "lenz.h"
#include "areas.h"
#include "uploads.h"

#define GUEST(fn, call)  static int fn(request_rec *r, lenz_req *lr) { return call; }

GUEST(g_init, lenz_up_initiate(r, lr, 0, 0))
GUEST(g_init_enc, lenz_up_initiate(r, lr, 0, 1))
GUEST(g_presign, lenz_up_presign(r, lr, 0))
GUEST(g_part, lenz_up_part(r, lr, 0))
GUEST(g_complete, lenz_up_complete(r, lr, 0, 0))
GUEST(g_complete_enc, lenz_up_complete(r, lr, 0, 1))
GUEST(g_parts, lenz_up_parts(r, lr, 0))
GUEST(g_abort, lenz_up_abort(r, lr, 0))
GUEST(m_init, lenz_up_initiate(r, lr, 1, 0))
GUEST(m_init_enc, lenz_up_initiate(r, lr, 1, 1))
GUEST(m_presign, lenz_up_presign(r, lr, 1))
GUEST(m_part, lenz_up_part(r, lr, 1))
GUEST(m_complete, lenz_up_complete(r, lr, 1, 0))
GUEST(m_complete_enc, lenz_up_complete(r, lr, 1, 1))
GUEST(m_parts, lenz_up_parts(r, lr, 1))
GUEST(m_abort, lenz_up_abort(r, lr, 1))

static const lenz_route routes[] = {
    { LENZ_POST, "/guest/initiate", g_init, LENZ_ACCESS_PUBLIC },
    { LENZ_GET, "/guest/presigned-url", g_presign, LENZ_ACCESS_PUBLIC },
    { LENZ_POST, "/guest/complete", g_complete, LENZ_ACCESS_PUBLIC },
    { LENZ_POST, "/guest/encrypted/initiate", g_init_enc, LENZ_ACCESS_PUBLIC },
    { LENZ_POST, "/guest/encrypted/upload-part", g_part, LENZ_ACCESS_PUBLIC },
    { LENZ_POST, "/guest/encrypted/complete", g_complete_enc, LENZ_ACCESS_PUBLIC },
    { LENZ_GET, "/guest/parts", g_parts, LENZ_ACCESS_PUBLIC },
    { LENZ_POST, "/guest/abort", g_abort, LENZ_ACCESS_PUBLIC },
    { LENZ_POST, "/member/initiate", m_init, LENZ_ACCESS_MEMBER },
    { LENZ_GET, "/member/presigned-url", m_presign, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/member/complete", m_complete, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/member/encrypted/initiate", m_init_enc, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/member/encrypted/upload-part", m_part, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/member/encrypted/complete", m_complete_enc, LENZ_ACCESS_MEMBER },
    { LENZ_GET, "/member/parts", m_parts, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/member/abort", m_abort, LENZ_ACCESS_MEMBER },
    { 0 }
};

/* The same operations for API clients (bearer tokens), under /api/v1. */
const lenz_route lenz_api_upload_routes[] = {
    { LENZ_POST, "/uploads/initiate", m_init, LENZ_ACCESS_MEMBER },
    { LENZ_GET, "/uploads/presigned-url", m_presign, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/uploads/complete", m_complete, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/uploads/encrypted/initiate", m_init_enc, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/uploads/encrypted/upload-part", m_part, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/uploads/encrypted/complete", m_complete_enc, LENZ_ACCESS_MEMBER },
    { LENZ_GET, "/uploads/parts", m_parts, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/uploads/abort", m_abort, LENZ_ACCESS_MEMBER },
    { 0 }
};

static const lenz_route *const tables[] = { routes, NULL };

/* The seed's clients expect JSON errors from these routes. */
const lenz_area lenz_area_upload = { "lenz-upload", "upload", tables, NULL, 1 };
