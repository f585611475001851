/* chat_template.h: how /v1/chat/completions turns messages into the text
 * the model reads. A template is stored in the model's config (the
 * "chat_template" object of config.json, or of the "config" in a .bitt
 * header):
 *
 *   "chat_template": {"system": "{content}\n\n", "user": "User: {content}\n",
 *                     "assistant": "Assistant: {content}\n", "stop": ["\nUser:"]}
 *
 * Each role's string holds {content} once; a message is rendered as its
 * role's string with the content put in, the messages one after the other,
 * and then the assistant string up to {content} (where the answer begins).
 * "stop" (optional) lists stop strings added to every chat request. Without
 * a template, the default for the story models: every message's text as it
 * is, one after the other (a user turn continues the story, the answer
 * continues it further), which is what `bitt chat` reads. */
#ifndef BITT_SERVER_CHAT_TEMPLATE_H
#define BITT_SERVER_CHAT_TEMPLATE_H

#include <stddef.h>

#include "../api/bitt.h"
#include "request.h"

#define CHAT_TEMPLATE_KEY "chat_template"
#define CHAT_TEMPLATE_MAX_BYTES 4096

typedef struct ChatTemplate {
    char *prefix[3], *suffix[3];      /* per ChatRole: the text before and after {content} */
    size_t prefix_len[3], suffix_len[3];
    char *stop[BITT_MAX_STOP_STRINGS];
    size_t stop_len[BITT_MAX_STOP_STRINGS];
    int n_stop;
    int is_default;
} ChatTemplate;

/* The default template (plain text). */
int chat_template_default(ChatTemplate *t, BittError *err);
/* Reads the template of the model at path (.bitt file, checkpoint directory,
 * or a run directory holding checkpoint/): the default when the config has
 * none; an error naming the file when it has a malformed one. */
int chat_template_load(const char *model_path, ChatTemplate *t, BittError *err);
/* The template in the header of a .bitt file held in memory (data, len
 * bytes; only the header is read), as chat_template_load finds it in a file:
 * the WebAssembly build, which has no files (wasm/bitt_wasm.c). */
int chat_template_from_bitt(const void *data, size_t len, const char *source, ChatTemplate *t, BittError *err);
/* From a JSON object's text (tests, and the loader). source names it in errors. */
int chat_template_parse(const char *json, size_t len, const char *source, ChatTemplate *t, BittError *err);
void chat_template_free(ChatTemplate *t);

/* Renders the messages followed by the start of the answer. *text is
 * malloc'd (NUL-terminated). */
int chat_template_render(const ChatTemplate *t, const ChatMessage *msgs, int n, char **text, size_t *len,
                         BittError *err);

#endif
