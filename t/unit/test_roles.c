/* users.roles (text[]) to role bits: names match exactly, never as
 * substrings ("collaborator" is not lab, "sysadmin" is not admin), in
 * every form PostgreSQL prints a text[] in. */
#include "tap.h"
#include "roles.h"

#define M LENZ_ROLE_MEMBER
#define L LENZ_ROLE_LAB
#define A LENZ_ROLE_ADMIN
#define S LENZ_ROLE_SYSTEM

static const struct { const char *in; unsigned want; } cases[] = {
    { "{member}", M },
    { "{member,lab}", M | L },
    { "{member,admin}", M | A },
    { "{admin,lab,member,system}", M | L | A | S },
    { "{}", 0 },
    /* substrings of longer names carry no role (the old parser's bug) */
    { "{collaborator}", 0 },
    { "{sysadmin}", 0 },
    { "{member,collaborator}", M },
    { "{administrator,lab_assistant,members,systems}", 0 },
    { "{adminx,xadmin,labs,Admin,ADMIN}", 0 },
    /* quoted elements (PostgreSQL quotes names with spaces, commas...) */
    { "{\"admin\"}", A },
    { "{\"lab \",\" admin\"}", 0 },
    { "{\"a,admin\",member}", M },
    { "{\"ad\\\\min\"}", 0 },
    { "{\"x\\\"admin\"}", 0 },
    { "{\"\\a\\d\\m\\i\\n\"}", A },           /* escapes unescaped before matching */
    { "{NULL,lab}", L },
    { "{\"NULL\"}", 0 },
    /* malformed: nothing */
    { NULL, 0 },
    { "", 0 },
    { "admin", 0 },
    { "member,admin", 0 },
    { "{admin", 0 },
    { "{admin}x", 0 },
    { "{\"admin}", 0 },
    { "{{admin}}", 0 },
    { "{ad\"min}", 0 },
    { "{admin,}", 0 },
};

int main(void)
{
    unsigned i;
    char longname[200];
    plan((int)(sizeof(cases) / sizeof(cases[0])) + 4);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        ok(lenz_roles_parse(cases[i].in) == cases[i].want, "%s -> 0x%x (got 0x%x)",
           cases[i].in ? cases[i].in : "NULL", cases[i].want, lenz_roles_parse(cases[i].in));
    /* an element longer than any name: ignored, the rest still read */
    memcpy(longname, "{admin,", 7);
    memset(longname + 7, 'a', 180);
    memcpy(longname + 187, ",member}", 9);
    ok(lenz_roles_parse(longname) == (A | M), "a 180-byte element is skipped, the rest read (0x%x)",
       lenz_roles_parse(longname));
    ok(lenz_role_bit("admin", 5) == A, "admin is the admin bit");
    ok(lenz_role_bit("admin", 4) == 0, "a prefix of a name is no role");
    ok(lenz_role_bit("admins", 6) == 0, "a longer name is no role");
    return done_testing();
}
