/* fuzz_chat_template.c: libFuzzer harness of the chat template a model's
 * config may hold (src/server/chat_template.c: chat_template_parse, then
 * chat_template_render of a fixed conversation): any bytes give a template or
 * an error with a message; a template renders, and its output holds every
 * message's text. */
#include "fuzz_util.h"

#include "server/chat_template.h"

/* 1 if needle is somewhere in the len bytes at s (which may hold NULs). */
static int contains(const char *s, size_t len, const char *needle) {
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(s + i, needle, n) == 0) return 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    BittError err = {0};
    ChatTemplate t;
    char *json = malloc(size ? size : 1);
    if (!json) return 0;
    memcpy(json, data, size);
    int rc = chat_template_parse(json, size, "config.json chat_template", &t, &err);
    free(json);
    if (rc != 0) {
        FUZZ_CHECK_NAMES(err, "chat_template");
        return 0;
    }
    static const char *const texts[] = {"You are kind.", "Hello {content} there", "", "Once upon a time"};
    ChatMessage msgs[4] = {{ROLE_SYSTEM, texts[0], 13}, {ROLE_USER, texts[1], 21}, {ROLE_ASSISTANT, texts[2], 0},
                           {ROLE_USER, texts[3], 16}};
    char *out = NULL;
    size_t len = 0;
    FUZZ_CHECK(chat_template_render(&t, msgs, 4, &out, &len, &err) == 0, "render failed: %s", err.message);
    FUZZ_CHECK(out[len] == '\0', "not NUL-terminated");
    FUZZ_CHECK(contains(out, len, texts[1]) && contains(out, len, texts[3]), "a message is missing");
    free(out);
    chat_template_free(&t);
    return 0;
}
