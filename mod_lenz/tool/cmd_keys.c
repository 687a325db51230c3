/* cmd_keys.c - lenzctl commands for accounts' keys and the master key:
 * create-user, add-master-key, rotate-master-key, retire-master-key. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <stdlib.h>
#include <apr_strings.h>

#include "commands.h"
#include "pg.h"
#include "keys.h"
#include "passwd.h"
#include "codec.h"
#include "crypto.h"
#include "err.h"

/* Wraps kek for user under the keyring's current master key: hex blob. */
static const char *wrap_kek(apr_pool_t *p, const lenz_keyring *kr, const char *user,
                            const unsigned char kek[LENZ_KEY_LEN], apr_uint32_t *mk)
{
    unsigned char blob[LENZ_WRAP_LEN];
    *mk = lenz_keyring_current_version(kr);
    if (lenz_key_wrap(p, lenz_keyring_get(kr, *mk), lenz_key_context_kek(p, user, *mk),
                      kek, blob) != APR_SUCCESS)
        return NULL;
    return lenz_hex(p, blob, sizeof(blob));
}

static char *read_password(apr_pool_t *p)
{
    char buf[1100];
    size_t n;
    if (!fgets(buf, sizeof(buf), stdin))
        return NULL;
    n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    return n ? apr_pstrdup(p, buf) : NULL;
}

int lenz_cmd_create_user(lenz_cli *cli, int argc, const char *const *argv)
{
    apr_pool_t *p = cli->pool;
    const char *email = NULL, *name = "", *roles = "{member}", *password = NULL;
    const char *phc, *kek_hex, *user, *params[5];
    unsigned char kek[LENZ_KEY_LEN], rnd[18];
    lenz_keyring *kr;
    PGconn *db;
    PGresult *res;
    apr_uint32_t mk;
    int i, generated = 0, pw_stdin = 0, rc = 1;

    for (i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--name") && i + 1 < argc) name = argv[++i];
        else if (!strcmp(argv[i], "--admin")) roles = "{member,admin}";
        else if (!strcmp(argv[i], "--lab")) roles = "{member,lab}";
        else if (!strcmp(argv[i], "--password-stdin")) pw_stdin = 1;
        else if (argv[i][0] != '-' && !email) email = argv[i];
        else return lenz_cli_usage(cli);
    }
    if (!email || !strchr(email, '@'))
        return lenz_cli_usage(cli);
    if (pw_stdin && !(password = read_password(p))) {
        fprintf(stderr, "lenzctl: no password on standard input\n");
        return 1;
    }
    if (!password) {
        lenz_random(rnd, sizeof(rnd));
        password = lenz_b64url(p, rnd, sizeof(rnd));
        generated = 1;
    }
    if (!(kr = lenz_settings_keyring(p, cli->settings)) || !(db = lenz_pg_connect(cli->settings->db)))
        return 1;
    if (lenz_passwd_hash(p, password, NULL, &phc) != APR_SUCCESS || lenz_key_generate(kek) != APR_SUCCESS) {
        fprintf(stderr, "lenzctl: cannot hash the password or draw a key\n");
        goto out;
    }
    if (!lenz_pg_do(db, "BEGIN"))
        goto out;
    params[0] = email;
    params[1] = name;
    params[2] = phc;
    params[3] = roles;
    res = lenz_pg(db, "INSERT INTO users (email, name, password_hash, status, roles) "
                      "VALUES ($1, $2, $3, 'active', $4::text[]) RETURNING id", 4, params);
    if (!res)
        goto out;
    user = apr_pstrdup(p, PQgetvalue(res, 0, 0));
    PQclear(res);
    if (!(kek_hex = wrap_kek(p, kr, user, kek, &mk)))
        goto out;
    params[0] = user;
    params[1] = kek_hex;
    params[2] = apr_psprintf(p, "%u", mk);
    res = lenz_pg(db, "INSERT INTO user_keys (user_id, version, wrapped_kek, master_key_version) "
                      "VALUES ($1, 1, decode($2, 'hex'), $3::int)", 3, params);
    if (!res)
        goto out;
    PQclear(res);
    if (!lenz_pg_do(db, "COMMIT"))
        goto out;
    printf("user %s created (%s, roles %s)\n", user, email, roles);
    if (generated)
        printf("password: %s\n", password);
    rc = 0;
out:
    lenz_wipe(kek, sizeof(kek));
    PQfinish(db);
    return rc;
}

int lenz_cmd_add_master_key(lenz_cli *cli, int argc, const char *const *argv)
{
    const char *why = NULL;
    apr_uint32_t v;
    if (argc != 0 || !cli->settings->master_key_file)
        return lenz_cli_usage(cli);
    if (lenz_keyring_add_version(cli->pool, cli->settings->master_key_file, &v, &why) != APR_SUCCESS) {
        fprintf(stderr, "lenzctl: %s\n", why ? why : "cannot add a master key");
        return 1;
    }
    printf("master key version %u added to %s\n"
           "next: copy the file to every host, reload httpd (apachectl graceful), "
           "then run lenzctl rotate-master-key\n", v, cli->settings->master_key_file);
    return 0;
}

int lenz_cmd_rotate_master_key(lenz_cli *cli, int argc, const char *const *argv)
{
    apr_pool_t *p = cli->pool;
    lenz_keyring *kr;
    PGconn *db;
    PGresult *res;
    const char *params[4];
    apr_uint32_t cur;
    int i, n = 0, rc = 1;

    if (argc != 0)
        return lenz_cli_usage(cli);
    if (!(kr = lenz_settings_keyring(p, cli->settings)) || !(db = lenz_pg_connect(cli->settings->db)))
        return 1;
    cur = lenz_keyring_current_version(kr);
    params[0] = apr_psprintf(p, "%u", cur);
    /* One transaction: every key is re-wrapped, or none is. */
    if (!lenz_pg_do(db, "BEGIN"))
        goto out;
    res = lenz_pg(db, "SELECT user_id, version, encode(wrapped_kek, 'hex'), master_key_version "
                      "FROM user_keys WHERE master_key_version <> $1::int FOR UPDATE", 1, params);
    if (!res)
        goto out;
    for (i = 0; i < PQntuples(res); i++) {
        const char *user = PQgetvalue(res, i, 0), *hex = PQgetvalue(res, i, 2);
        apr_uint32_t old = (apr_uint32_t)strtoul(PQgetvalue(res, i, 3), NULL, 10);
        const unsigned char *mk = lenz_keyring_get(kr, old);
        unsigned char blob[LENZ_WRAP_LEN], kek[LENZ_KEY_LEN];
        const char *nhex;
        apr_uint32_t nv;
        PGresult *u;

        if (!mk) {
            fprintf(stderr, "lenzctl: user %s's key is wrapped by master key version %u, "
                    "which the key file no longer holds; nothing was changed\n", user, old);
            PQclear(res);
            goto out;
        }
        if (strlen(hex) != 2 * LENZ_WRAP_LEN
            || lenz_unhex(hex, strlen(hex), blob, sizeof(blob)) != APR_SUCCESS
            || lenz_key_unwrap(p, mk, lenz_key_context_kek(p, user, old), blob, sizeof(blob), kek)
               != APR_SUCCESS) {
            fprintf(stderr, "lenzctl: user %s's key does not unwrap with master key version %u; "
                    "nothing was changed\n", user, old);
            PQclear(res);
            goto out;
        }
        nhex = wrap_kek(p, kr, user, kek, &nv);
        lenz_wipe(kek, sizeof(kek));
        params[0] = user;
        params[1] = PQgetvalue(res, i, 1);
        params[2] = nhex;
        params[3] = apr_psprintf(p, "%u", nv);
        u = nhex ? lenz_pg(db, "UPDATE user_keys SET wrapped_kek = decode($3, 'hex'), "
                               "master_key_version = $4::int, rotated_at = now() "
                               "WHERE user_id = $1 AND version = $2::int", 4, params) : NULL;
        if (!u) {
            PQclear(res);
            goto out;
        }
        PQclear(u);
        n++;
    }
    PQclear(res);
    if (!lenz_pg_do(db, "COMMIT"))
        goto out;
    printf("%d user keys re-wrapped under master key version %u\n", n, cur);
    rc = 0;
out:
    PQfinish(db);   /* an open transaction is rolled back */
    return rc;
}

int lenz_cmd_retire_master_key(lenz_cli *cli, int argc, const char *const *argv)
{
    apr_pool_t *p = cli->pool;
    const char *why = NULL, *params[1];
    PGconn *db;
    PGresult *res;
    long left;
    char *end;
    unsigned long v;

    if (argc != 1 || !cli->settings->master_key_file)
        return lenz_cli_usage(cli);
    v = strtoul(argv[0], &end, 10);
    if (*end || v == 0)
        return lenz_cli_usage(cli);
    if (!(db = lenz_pg_connect(cli->settings->db)))
        return 1;
    params[0] = argv[0];
    res = lenz_pg(db, "SELECT count(*) FROM user_keys WHERE master_key_version = $1::int", 1, params);
    PQfinish(db);
    if (!res)
        return 1;
    left = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    if (left > 0) {
        fprintf(stderr, "lenzctl: %ld user keys are still wrapped by version %lu; "
                "run lenzctl rotate-master-key first\n", left, v);
        return 1;
    }
    if (lenz_keyring_remove_version(p, cli->settings->master_key_file, (apr_uint32_t)v, &why)
        != APR_SUCCESS) {
        fprintf(stderr, "lenzctl: %s\n", why);
        return 1;
    }
    printf("master key version %lu removed from %s; copy the file to every host and "
           "reload httpd\n", v, cli->settings->master_key_file);
    return 0;
}
