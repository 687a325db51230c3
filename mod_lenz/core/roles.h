/* roles.h - a member's roles, as a bit set, from users.roles (text[]).
 *
 * Role names are matched exactly (a role named "collaborator" is not the
 * "lab" role, "sysadmin" is not "admin"); names this module does not know
 * are ignored.  Other modules' or future roles may sit beside them. */
#ifndef LENZ_ROLES_H
#define LENZ_ROLES_H

#define LENZ_ROLE_MEMBER 0x1
#define LENZ_ROLE_LAB    0x2
#define LENZ_ROLE_ADMIN  0x4
#define LENZ_ROLE_SYSTEM 0x8
#define LENZ_ROLE_MODERATOR 0x10    /* topics and posts (issue 18): pin, lock, remove */

/* pg_array: PostgreSQL's text form of a text[] ("{member,admin}", with
 * double quotes and backslash escapes around elements that need them:
 * {"a b","x\"y"}).  NULL, a malformed array or one with no known name: 0.
 * Elements that are NULL or nested arrays carry no role. */
unsigned lenz_roles_parse(const char *pg_array);

/* The known role's bit for one name, exactly; 0 for any other. */
unsigned lenz_role_bit(const char *name, unsigned long len);

#endif
