/* textfilter.c - refused words and a cap on links (textfilter.h). */
#include <apr_strings.h>
#include <apr_lib.h>
#include <string.h>

#include "textfilter.h"

/* A byte that belongs to a word: ASCII letters and digits, and every byte
 * of a UTF-8 sequence (so "naïve" is one word). */
static int wordch(unsigned char c)
{
    return apr_isalnum(c) || c >= 0x80;
}

static int at_word_start(const char *text, const char *at)
{
    return at == text || !wordch((unsigned char)at[-1]);
}

/* Does text hold word (lower case) as a whole word, case aside? */
static int has_word(const char *text, const char *word)
{
    apr_size_t n = strlen(word);
    const char *s;
    if (!n)
        return 0;
    for (s = text; *s; s++) {
        if (apr_tolower((unsigned char)*s) != (unsigned char)word[0] || !at_word_start(text, s))
            continue;
        if (strncasecmp(s, word, n) == 0 && !wordch((unsigned char)s[n]))
            return 1;
    }
    return 0;
}

static int count_links(const char *text)
{
    static const char *const starts[] = { "http://", "https://", "www." };
    const char *s;
    int n = 0;
    unsigned i;
    for (s = text; *s; s++) {
        if (s != text && (apr_isalnum((unsigned char)s[-1]) || s[-1] == '.' || s[-1] == '/'))
            continue;
        for (i = 0; i < sizeof(starts) / sizeof(starts[0]); i++)
            if (strncasecmp(s, starts[i], strlen(starts[i])) == 0) {
                n++;
                s += strlen(starts[i]) - 1;
                break;
            }
    }
    return n;
}

const char *lenz_text_refused(apr_pool_t *p, const char *text, const char *const *words, int nwords,
                              int max_links)
{
    int i;
    for (i = 0; i < nwords; i++)
        if (has_word(text, words[i]))
            return "it contains a refused word";
    if (max_links >= 0 && count_links(text) > max_links)
        return apr_psprintf(p, "it has more than %d link%s", max_links, max_links == 1 ? "" : "s");
    return NULL;
}
