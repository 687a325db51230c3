/* lenz_uuid_ok (codec.h): the one check of ids from clients (routes'
 * {id}, folder_id, transfer_id): a UUID in text form, nothing else. */
#include "tap.h"
#include "codec.h"

int main(void)
{
    static const char *const good[] = {
        "00000000-0000-0000-0000-000000000000", "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
        "3F2504E0-4F89-11D3-9A0C-0305E82C3301",
    };
    static const char *const bad[] = {
        "", "root", "3f2504e0-4f89-11d3-9a0c-0305e82c330", "3f2504e0-4f89-11d3-9a0c-0305e82c33011",
        "3f2504e04f8911d39a0c0305e82c3301xxxx", "3f2504e0-4f89-11d3-9a0c_0305e82c3301",
        "g f2504e0-4f89-11d3-9a0c-0305e82c3301", "3f2504e0-4f89-11d3-9a0c-0305e82c330g",
        "{3f2504e0-4f89-11d3-9a0c-0305e82c33}", "3f2504e0-4f89-11d3-9a0c-0305e82c3301\n",
    };
    unsigned i;
    plan((int)(sizeof(good) / sizeof(good[0]) + sizeof(bad) / sizeof(bad[0])) + 1);
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        ok(lenz_uuid_ok(good[i]), "a UUID: %s", good[i]);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ok(!lenz_uuid_ok(bad[i]), "not a UUID: case %u", i);
    ok(!lenz_uuid_ok(NULL), "NULL is not");
    return done_testing();
}
