/* roles.c - users.roles (PostgreSQL text[]) to a bit set, name by name. */
#include <string.h>

#include "roles.h"

static const struct { const char *name; unsigned bit; } known[] = {
    { "member", LENZ_ROLE_MEMBER },
    { "lab", LENZ_ROLE_LAB },
    { "admin", LENZ_ROLE_ADMIN },
    { "system", LENZ_ROLE_SYSTEM },
    { "moderator", LENZ_ROLE_MODERATOR },
};

unsigned lenz_role_bit(const char *name, unsigned long len)
{
    unsigned i;
    for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strlen(known[i].name) == len && memcmp(known[i].name, name, len) == 0)
            return known[i].bit;
    return 0;
}

#define MAX_NAME 64             /* longer elements are no role of ours */

unsigned lenz_roles_parse(const char *a)
{
    unsigned roles = 0;
    char name[MAX_NAME];

    if (!a || *a != '{')
        return 0;
    a++;
    if (*a == '}')
        return 0;           /* {} or {}junk: no role either way */
    for (;;) {
        unsigned long n = 0;
        int quoted = 0, too_long = 0;
        if (*a == '{')
            return 0;           /* a nested array is not a list of names */
        if (*a == '"') {
            quoted = 1;
            for (a++; *a && *a != '"'; a++) {
                if (*a == '\\' && a[1])
                    a++;
                if (n < sizeof(name))
                    name[n++] = *a;
                else
                    too_long = 1;
            }
            if (*a != '"')
                return 0;       /* unterminated */
            a++;
        }
        else {
            for (; *a && *a != ',' && *a != '}'; a++) {
                if (*a == '"' || *a == '{' || *a == '\\')
                    return 0;   /* PostgreSQL would have quoted it */
                if (n < sizeof(name))
                    name[n++] = *a;
                else
                    too_long = 1;
            }
        }
        if (!quoted && n == 0)
            return 0;           /* an empty element must be quoted: malformed */
        /* An unquoted NULL is a NULL element, not the name "NULL". */
        if (!too_long && !(!quoted && n == 4 && memcmp(name, "NULL", 4) == 0))
            roles |= lenz_role_bit(name, n);
        if (*a == ',') {
            a++;
            continue;
        }
        if (*a == '}' && a[1] == '\0')
            return roles;
        return 0;               /* anything else is malformed */
    }
}
