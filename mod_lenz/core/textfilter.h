/* textfilter.h - the content filter for what members write (posts,
 * comments, messages): refused words and a cap on links, checked before
 * anything is stored (the seed's content_filter). */
#ifndef LENZ_TEXTFILTER_H
#define LENZ_TEXTFILTER_H

#include <apr_pools.h>

/* NULL when text passes; else why not, for a 422 answer: "it contains a
 * refused word" or "it has more than N links".  words: lower-case words
 * (nwords of them) matched without regard to case as whole words (not
 * inside a longer word); a link is each "http://", "https://" or "www."
 * that starts a word; max_links < 0: no cap. */
const char *lenz_text_refused(apr_pool_t *p, const char *text, const char *const *words, int nwords,
                              int max_links);

#endif
