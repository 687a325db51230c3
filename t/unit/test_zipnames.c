/* A ZIP's entry names (core/zipnames.c): the names are those the old
 * scan from (2) gave, and the work stays linear in the number of files,
 * for thousands of one name and for names chosen to collide with the
 * numbered ones (the old scan made n^2/2 candidates for n equal names). */
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_hash.h>
#include "tap.h"
#include "zipnames.h"

/* The old scan, as the reference for which names come out. */
static const char *scan(apr_pool_t *p, apr_hash_t *seen, const char *name)
{
    const char *dot = strrchr(name, '.'), *cand = name;
    int i;
    for (i = 2; apr_hash_get(seen, cand, APR_HASH_KEY_STRING); i++)
        cand = dot && dot != name ? apr_psprintf(p, "%.*s (%d)%s", (int)(dot - name), name, i, dot)
                                  : apr_psprintf(p, "%s (%d)", name, i);
    apr_hash_set(seen, cand, APR_HASH_KEY_STRING, cand);
    return cand;
}

/* Adds n names; 1 when every name came out unique. */
static int all_unique(apr_pool_t *p, lenz_zipnames *z, const char *const *names, int n)
{
    apr_hash_t *out = apr_hash_make(p);
    int i, dup = 0;
    for (i = 0; i < n; i++) {
        const char *e = lenz_zipnames_add(z, names[i]);
        dup += apr_hash_get(out, e, APR_HASH_KEY_STRING) != NULL;
        apr_hash_set(out, e, APR_HASH_KEY_STRING, e);
    }
    return dup == 0;
}

int main(void)
{
    static const char *const pool_of_names[] = {
        "a.jpg", "a (2).jpg", "a (3).jpg", "a (2) (2).jpg", "a", "a (2)", ".bashrc", ".bashrc (2)",
        "b.tar.gz", "b.tar (2).gz", "x.", "x (2).", "Grüße.txt"
    };
    const int npool = (int)(sizeof(pool_of_names) / sizeof(pool_of_names[0]));
    enum { N = 20000 };
    const char **names;
    apr_pool_t *p;
    lenz_zipnames *z;
    int i, round, same;

    apr_initialize();
    apr_pool_create(&p, NULL);

    z = lenz_zipnames_make(p);
    is_str(lenz_zipnames_add(z, "a.jpg"), "a.jpg", "a first name stays");
    is_str(lenz_zipnames_add(z, "a.jpg"), "a (2).jpg", "the second gets (2) before the extension");
    is_str(lenz_zipnames_add(z, "a (3).jpg"), "a (3).jpg", "a name that looks numbered stays when free");
    is_str(lenz_zipnames_add(z, "a.jpg"), "a (4).jpg", "... and is skipped by the next a.jpg");
    is_str(lenz_zipnames_add(z, "a (3).jpg"), "a (3) (2).jpg", "the numbered name twice: numbered again");
    is_str(lenz_zipnames_add(z, "README"), "README", "no extension");
    is_str(lenz_zipnames_add(z, "README"), "README (2)", "... (2) at the end");
    is_str(lenz_zipnames_add(z, ".bashrc"), ".bashrc", "a leading dot");
    is_str(lenz_zipnames_add(z, ".bashrc"), ".bashrc (2)", "... is no extension");

    /* Random mixes: the same names as the old scan, in the same order. */
    srand(7);
    same = 1;
    for (round = 0; round < 200 && same; round++) {
        apr_hash_t *seen = apr_hash_make(p);
        z = lenz_zipnames_make(p);
        for (i = 0; i < 60; i++) {
            const char *n = pool_of_names[rand() % npool];
            const char *want = scan(p, seen, n), *got = lenz_zipnames_add(z, n);
            if (strcmp(want, got) != 0) {
                diag("round %d, name %d (%s): got '%s', the scan gives '%s'", round, i, n, got, want);
                same = 0;
                break;
            }
        }
    }
    ok(same, "200 random mixes of colliding names: the old scan's names exactly");

    /* N files of one name. */
    names = apr_palloc(p, sizeof(*names) * 2 * N);
    for (i = 0; i < N; i++)
        names[i] = "photo.jpg";
    z = lenz_zipnames_make(p);
    ok(all_unique(p, z, names, N), "%d files named photo.jpg: every entry named apart", N);
    ok(lenz_zipnames_probes(z) <= 3 * (apr_size_t)N, "... with %lu look-ups (at most 3 per name; the "
       "scan from (2) needs %llu)", (unsigned long)lenz_zipnames_probes(z),
       (unsigned long long)N * (N + 1) / 2);

    /* The numbered names taken first, then the plain one N times: each
     * numbered candidate is found taken once, not once per file. */
    for (i = 0; i < N; i++)
        names[i] = apr_psprintf(p, "photo (%d).jpg", i + 2);
    for (i = N; i < 2 * N; i++)
        names[i] = "photo.jpg";
    z = lenz_zipnames_make(p);
    ok(all_unique(p, z, names, 2 * N), "%d numbered names, then %d plain ones: all apart", N, N);
    ok(lenz_zipnames_probes(z) <= 3 * (apr_size_t)(2 * N), "... with %lu look-ups for %d names",
       (unsigned long)lenz_zipnames_probes(z), 2 * N);

    apr_pool_destroy(p);
    apr_terminate();
    return done_testing();
}
