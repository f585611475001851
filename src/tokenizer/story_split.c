/* story_split.c: stories between `<|endoftext|>` separators (see
 * story_split.h). */
#include "story_split.h"

#include <string.h>

static int is_newline(char c) { return c == '\n' || c == '\r'; }

/* Offset of the first separator in text[from, len), or len if none. */
static size_t find_separator(const char *text, size_t len, size_t from) {
    while (from + STORY_SEPARATOR_LEN <= len) {
        const char *lt = memchr(text + from, '<', len - from - STORY_SEPARATOR_LEN + 1);
        if (!lt) break;
        from = (size_t)(lt - text);
        if (memcmp(lt, STORY_SEPARATOR, STORY_SEPARATOR_LEN) == 0) return from;
        from++;
    }
    return len;
}

int story_next(const char *text, size_t len, size_t *pos, size_t *start, size_t *story_len) {
    while (*pos < len) {
        size_t begin = *pos, sep = find_separator(text, len, begin), end = sep;
        *pos = sep < len ? sep + STORY_SEPARATOR_LEN : len;
        while (begin < end && is_newline(text[begin])) begin++;
        while (end > begin && is_newline(text[end - 1])) end--;
        if (end > begin) {
            *start = begin;
            *story_len = end - begin;
            return 1;
        }
    }
    return 0;
}

size_t story_last_separator_end(const char *text, size_t len) {
    size_t i = len;
    while (i >= STORY_SEPARATOR_LEN) {
        i--;
        if (text[i] == '>' && memcmp(text + i + 1 - STORY_SEPARATOR_LEN, STORY_SEPARATOR, STORY_SEPARATOR_LEN) == 0)
            return i + 1;
    }
    return 0;
}
