/* test_server_core.c: the parts of `bitt serve` without HTTP: request
 * parsing and its refusals (request.c), chat templates (chat_template.c),
 * the conversation cache's prefix lookup, LRU eviction by entries and bytes,
 * references that outlive eviction, ids (conv_cache.c), and the OpenAI JSON
 * (openai_json.c: text that is not UTF-8, the error object). */
#include <stdlib.h>
#include <string.h>

#include "formats/json.h"
#include "server/chat_template.h"
#include "server/conv_cache.h"
#include "server/openai_json.h"
#include "server/request.h"
#include "test_util.h"

static int parse(RequestKind kind, const char *body, GenRequest *r, JsonDoc **doc, ApiError *e) {
    return gen_request_parse(kind, body, strlen(body), r, doc, e);
}

/* the body is refused with status 400 naming param (NULL: any) and a message containing needle */
static void refused(RequestKind kind, const char *body, const char *param, const char *needle) {
    GenRequest r;
    JsonDoc *doc;
    ApiError e;
    memset(&e, 0, sizeof e);
    int rc = parse(kind, body, &r, &doc, &e);
    CHECK_MSG(rc != 0, "accepted: %s", body);
    CHECK_MSG(e.status == 400 && e.type && strcmp(e.type, "invalid_request_error") == 0, "%s: status %d", body, e.status);
    if (param) CHECK_MSG(e.param && strcmp(e.param, param) == 0, "%s: param %s, want %s", body, e.param ? e.param : "(null)", param);
    CHECK_MSG(strstr(e.message, needle) != NULL, "%s: message '%s' lacks '%s'", body, e.message, needle);
    gen_request_free(&r);
    json_doc_free(doc);
}

static void test_requests(void) {
    GenRequest r;
    JsonDoc *doc;
    ApiError e;
    CHECK(parse(REQ_COMPLETION,
                "{\"model\":\"m\",\"prompt\":\"Once\",\"max_tokens\":7,\"temperature\":0.5,\"top_p\":0.9,\"top_k\":5,"
                "\"min_p\":0.1,\"presence_penalty\":-1,\"frequency_penalty\":0.5,\"repetition_penalty\":1.2,"
                "\"penalty_last_n\":8,\"seed\":123,\"stop\":[\"a\",\"\\n\\n\"],\"stream\":true,"
                "\"stream_options\":{\"include_usage\":true},\"logprobs\":3,\"user\":\"u\",\"n\":1,\"echo\":false,"
                "\"logit_bias\":{},\"unknown_field\":[1,2],\"suffix\":null,\"conversation_id\":\"conv-1\"}",
                &r, &doc, &e) == 0);
    CHECK(r.prompt_len == 4 && memcmp(r.prompt, "Once", 4) == 0 && r.max_tokens == 7);
    CHECK(r.sampling.temperature == 0.5f && r.sampling.top_p == 0.9f && r.sampling.top_k == 5);
    CHECK(r.sampling.min_p == 0.1f && r.sampling.presence_penalty == -1.0f && r.sampling.frequency_penalty == 0.5f);
    CHECK(r.sampling.repetition_penalty == 1.2f && r.sampling.penalty_last_n == 8);
    CHECK(r.seed_given && r.sampling.seed == 123);
    CHECK(r.n_stop == 2 && r.stop_len[1] == 2 && r.stream && r.include_usage && r.logprobs && r.top_logprobs == 3);
    CHECK(strcmp(r.conversation_id, "conv-1") == 0 && r.model && strcmp(r.model, "m") == 0);
    gen_request_free(&r);
    json_doc_free(doc);
    /* defaults: bitt generate's sampling, no seed, the server's max_tokens */
    CHECK(parse(REQ_COMPLETION, "{\"prompt\":[\"x\"],\"temperature\":null}", &r, &doc, &e) == 0);
    CHECK(r.max_tokens == -1 && !r.seed_given && r.sampling.temperature == 0.8f && r.sampling.top_k == 40 && !r.stream);
    gen_request_free(&r);
    json_doc_free(doc);
    /* chat: roles, content parts joined, max_completion_tokens */
    CHECK(parse(REQ_CHAT,
                "{\"messages\":[{\"role\":\"developer\",\"content\":\"be kind\"},{\"role\":\"user\",\"content\":"
                "[{\"type\":\"text\",\"text\":\"a\"},{\"type\":\"text\",\"text\":\"b\"}]},{\"role\":\"assistant\","
                "\"content\":\"c\"}],\"max_completion_tokens\":3,\"logprobs\":true,\"top_logprobs\":2}",
                &r, &doc, &e) == 0);
    CHECK(r.n_messages == 3 && r.messages[0].role == ROLE_SYSTEM && r.messages[1].role == ROLE_USER);
    CHECK(r.messages[1].len == 2 && memcmp(r.messages[1].content, "ab", 2) == 0 && r.messages[2].role == ROLE_ASSISTANT);
    CHECK(r.max_tokens == 3 && r.logprobs && r.top_logprobs == 2);
    gen_request_free(&r);
    json_doc_free(doc);

    refused(REQ_COMPLETION, "{bad", NULL, "JSON");
    refused(REQ_COMPLETION, "[1]", NULL, "JSON object");
    refused(REQ_COMPLETION, "{}", "prompt", "required");
    refused(REQ_COMPLETION, "{\"prompt\":5}", "prompt", "string");
    refused(REQ_COMPLETION, "{\"prompt\":[1,2]}", "prompt", "not supported");
    refused(REQ_COMPLETION, "{\"prompt\":\"x\",\"temperature\":\"hot\"}", "temperature", "number");
    refused(REQ_COMPLETION, "{\"prompt\":\"x\",\"temperature\":2.5}", "temperature", "between 0 and 2");
    refused(REQ_COMPLETION, "{\"prompt\":\"x\",\"top_p\":0}", "top_p", "above 0");
    refused(REQ_COMPLETION, "{\"prompt\":\"x\",\"max_tokens\":1.5}", "max_tokens", "integer");
    refused(REQ_COMPLETION, "{\"prompt\":\"x\",\"max_tokens\":-1}", "max_tokens", "between");
    refused(REQ_COMPLETION, "{\"prompt\":\"x\",\"seed\":-4}", "seed", "between");
    refused(REQ_COMPLETION, "{\"prompt\":\"x\",\"presence_penalty\":3}", "presence_penalty", "between -2 and 2");
    refused(REQ_COMPLETION, "{\"prompt\":\"x\",\"repetition_penalty\":0}", "repetition_penalty", "above 0");
    refused(REQ_COMPLETION, "{\"prompt\":\"x\",\"min_p\":2}", "min_p", "between 0 and 1");
    refused(REQ_COMPLETION, "{\"prompt\":\"x\",\"stream\":\"yes\"}", "stream", "boolean");
    refused(REQ_COMPLETION, "{\"prompt\":\"x\",\"stream_options\":{\"include_usage\":1}}", "stream_options", "boolean");
    refused(REQ_COMPLETION, "{\"prompt\":\"x\",\"stop\":5}", "stop", "string or an array");
    refused(REQ_COMPLETION, "{\"prompt\":\"x\",\"stop\":[\"\"]}", "stop", "1 to 256 bytes");
    refused(REQ_COMPLETION, "{\"prompt\":\"x\",\"stop\":[\"a\",3]}", "stop", "stop[1]");
    refused(REQ_COMPLETION, "{\"prompt\":\"x\",\"stop\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"10\",\"11\","
            "\"12\",\"13\",\"14\",\"15\",\"16\",\"17\"]}", "stop", "at most 16");
    refused(REQ_COMPLETION, "{\"prompt\":\"x\",\"n\":2}", "n", "not supported");
    refused(REQ_COMPLETION, "{\"prompt\":\"x\",\"best_of\":3}", "best_of", "not supported");
    refused(REQ_COMPLETION, "{\"prompt\":\"x\",\"echo\":true}", "echo", "not supported");
    refused(REQ_COMPLETION, "{\"prompt\":\"x\",\"suffix\":\"end\"}", "suffix", "not supported");
    refused(REQ_COMPLETION, "{\"prompt\":\"x\",\"logit_bias\":{\"5\":1}}", "logit_bias", "not supported");
    refused(REQ_COMPLETION, "{\"prompt\":\"x\",\"logprobs\":true}", "logprobs", "number");
    refused(REQ_COMPLETION, "{\"prompt\":\"x\",\"logprobs\":50}", "logprobs", "between 0 and 20");
    refused(REQ_COMPLETION, "{\"prompt\":\"x\",\"conversation_id\":\"a b\"}", "conversation_id", "characters");
    refused(REQ_COMPLETION, "{\"prompt\":\"x\",\"model\":7}", "model", "string");
    refused(REQ_CHAT, "{}", "messages", "required");
    refused(REQ_CHAT, "{\"messages\":{}}", "messages", "array");
    refused(REQ_CHAT, "{\"messages\":[]}", "messages", "at least one");
    refused(REQ_CHAT, "{\"messages\":[5]}", "messages", "messages[0] must be an object");
    refused(REQ_CHAT, "{\"messages\":[{\"role\":\"robot\",\"content\":\"x\"}]}", "messages", "role must be");
    refused(REQ_CHAT, "{\"messages\":[{\"role\":\"tool\",\"content\":\"x\"}]}", "messages", "not supported");
    refused(REQ_CHAT, "{\"messages\":[{\"role\":\"user\"}]}", "messages", "content is required");
    refused(REQ_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\"}]}]}", "messages",
            "not supported");
    refused(REQ_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":[{}]}", "tools", "not supported");
    refused(REQ_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"top_logprobs\":2}", "top_logprobs",
            "needs 'logprobs'");
    refused(REQ_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"response_format\":{\"type\":\"json_object\"}}",
            "response_format", "not supported");
    CHECK(conversation_id_valid("conv-0123_a.b", 13) && !conversation_id_valid("", 0) && !conversation_id_valid("a/b", 3));
}

static void test_templates(void) {
    BittError err;
    ChatTemplate t;
    ChatMessage msgs[3] = {{ROLE_SYSTEM, "Be brief.", 9}, {ROLE_USER, "Hi", 2}, {ROLE_ASSISTANT, "Hello", 5}};
    char *text;
    size_t len;
    /* the default: texts one after the other, the system text on its own line */
    CHECK(chat_template_default(&t, &err) == 0 && t.is_default);
    CHECK(chat_template_render(&t, msgs, 3, &text, &len, &err) == 0);
    CHECK(strcmp(text, "Be brief.\nHiHello") == 0 && len == strlen(text));
    free(text);
    chat_template_free(&t);
    const char *tpl = "{\"system\":\"{content}\\n\\n\",\"user\":\"User: {content}\\n\",\"assistant\":\"Assistant:{content}\\n\","
                      "\"stop\":[\"\\nUser:\"]}";
    CHECK_MSG(chat_template_parse(tpl, strlen(tpl), "t", &t, &err) == 0, "%s", err.message);
    CHECK(chat_template_render(&t, msgs, 3, &text, &len, &err) == 0);
    CHECK(strcmp(text, "Be brief.\n\nUser: Hi\nAssistant:Hello\nAssistant:") == 0);
    free(text);
    CHECK(t.n_stop == 1 && t.stop_len[0] == 6);
    chat_template_free(&t);
    /* a role left out keeps the default's */
    const char *only_user = "{\"user\":\"> {content}\"}";
    CHECK(chat_template_parse(only_user, strlen(only_user), "t", &t, &err) == 0);
    CHECK(chat_template_render(&t, msgs + 1, 1, &text, &len, &err) == 0 && strcmp(text, "> Hi") == 0);
    free(text);
    chat_template_free(&t);
    const char *bad[] = {"{\"user\":\"no placeholder\"}", "{\"user\":\"{content}{content}\"}", "{\"user\":5}",
                         "{\"stop\":\"x\"}", "{\"stop\":[\"\"]}", "{\"colour\":\"red\"}", "[1]"};
    const char *why[] = {"must hold {content}", "more than once", "must be a string", "stop must be an array",
                         "stop[0]", "unknown key 'colour'", "must be an object"};
    for (int i = 0; i < 7; i++) {
        CHECK(chat_template_parse(bad[i], strlen(bad[i]), "cfg.json", &t, &err) != 0);
        CHECK_MSG(strstr(err.message, why[i]) && strstr(err.message, "cfg.json"), "%s -> %s", bad[i], err.message);
    }
    /* from the header of a .bitt file in memory (the wasm build): the config's template, or the default */
    const char *hdr[] = {"{\"config\":{\"chat_template\":{\"user\":\"> {content}\"}}}", "{\"config\":{}}"};
    for (int i = 0; i < 2; i++) {
        size_t h = strlen(hdr[i]);
        unsigned char file[128] = "BITT";
        for (int k = 0; k < 8; k++) file[4 + k] = (unsigned char)((uint64_t)h >> (8 * k));
        memcpy(file + 12, hdr[i], h);
        CHECK_MSG(chat_template_from_bitt(file, 12 + h, "m.bitt", &t, &err) == 0, "%s", err.message);
        CHECK(t.is_default == (i == 1));
        CHECK(chat_template_render(&t, msgs + 1, 1, &text, &len, &err) == 0 && strcmp(text, i ? "Hi" : "> Hi") == 0);
        free(text);
        chat_template_free(&t);
        CHECK(chat_template_from_bitt(file, 12 + h - 1, "m.bitt", &t, &err) != 0 && strstr(err.message, "cut short"));
    }
    CHECK(chat_template_from_bitt("BITX", 4, "m.bitt", &t, &err) != 0 && strstr(err.message, "not a .bitt file"));
}

static uint8_t *bytes_of(size_t n, int v) {
    uint8_t *p = malloc(n);
    memset(p, v, n);
    return p;
}

static int32_t *ids_of(const int32_t *src, size_t n) {
    int32_t *p = malloc(n * sizeof *p);
    memcpy(p, src, n * sizeof *p);
    return p;
}

static void test_cache(void) {
    ConvCache c;
    CHECK(conv_cache_init(&c, 3, 1 << 20, 42) == 0);
    const int32_t a[] = {2, 10, 11, 12}, b[] = {2, 10, 11, 12, 13, 14}, other[] = {2, 99};
    char id_a[CONV_ID_MAX + 1], id_b[CONV_ID_MAX + 1], id_o[CONV_ID_MAX + 1];
    CHECK(conv_cache_put(&c, NULL, bytes_of(100, 1), 100, ids_of(a, 4), 4, -1, 4, id_a) == 0);
    CHECK(conv_cache_put(&c, NULL, bytes_of(100, 2), 100, ids_of(b, 6), 6, 77, 6, id_b) == 0);
    CHECK(conv_cache_put(&c, NULL, bytes_of(100, 3), 100, ids_of(other, 2), 2, -1, 2, id_o) == 0);
    CHECK(strncmp(id_a, "conv-", 5) == 0 && strcmp(id_a, id_b) != 0);
    /* the longest stored prefix of the prompt */
    const int32_t prompt[] = {2, 10, 11, 12, 13, 14, 15, 16};
    ConvEntry *e = conv_cache_find_prefix(&c, prompt, 8);
    CHECK(e && strcmp(e->id, id_b) == 0 && e->n_tokens == 6 && e->unread == 77 && e->state[0] == 2);
    conv_cache_release(&c, e, 0);
    e = conv_cache_find_prefix(&c, prompt, 5); /* b is longer than the prompt: a */
    CHECK(e && strcmp(e->id, id_a) == 0);
    conv_cache_release(&c, e, 0);
    const int32_t diverge[] = {2, 10, 11, 99, 13};
    CHECK(conv_cache_find_prefix(&c, diverge, 5) == NULL);
    /* the same hash is not enough: the ids are compared */
    ConvCacheStats st = conv_cache_stats(&c);
    CHECK(st.entries == 3 && st.hits == 2 && st.misses == 1);
    /* LRU: a fourth entry evicts the least recently used (other, never looked up) */
    e = conv_cache_get(&c, id_a); /* a is in use by someone: it survives eviction of itself later */
    CHECK(e != NULL);
    CHECK(conv_cache_put(&c, NULL, bytes_of(100, 4), 100, ids_of(other, 2), 2, -1, 2, NULL) == 0);
    CHECK(conv_cache_get(&c, id_o) == NULL);
    st = conv_cache_stats(&c);
    CHECK(st.entries == 3 && st.evictions == 1);
    /* checkout marks it in use: a second checkout is told it is busy */
    int busy = 0;
    ConvEntry *held = conv_cache_checkout(&c, id_b, &busy);
    CHECK(held && !busy);
    CHECK(conv_cache_checkout(&c, id_b, &busy) == NULL && busy);
    /* replacing by id keeps the id; the held old entry stays readable */
    CHECK(conv_cache_put(&c, id_b, bytes_of(50, 9), 50, NULL, 0, -1, 60, NULL) == 0);
    CHECK(held->state[0] == 2 && !held->linked);
    conv_cache_release(&c, held, 1);
    ConvEntry *nb = conv_cache_get(&c, id_b);
    CHECK(nb && nb->state_len == 50 && nb->tokens == NULL && nb->token_count == 60);
    conv_cache_release(&c, nb, 0);
    ConvEntry *pa = conv_cache_find_prefix(&c, b, 6); /* b's new entry has no ids: a is the longest prefix */
    CHECK(pa && strcmp(pa->id, id_a) == 0);
    conv_cache_release(&c, pa, 0);
    /* bytes: an entry larger than the cache is refused; a big one evicts others */
    CHECK(conv_cache_put(&c, NULL, bytes_of((1 << 20) + 1, 0), (1 << 20) + 1, NULL, 0, -1, 0, NULL) != 0);
    CHECK(conv_cache_put(&c, "big", bytes_of(1048400, 5), 1048400, NULL, 0, -1, 0, NULL) == 0);
    st = conv_cache_stats(&c);
    CHECK(st.entries == 1 && st.bytes <= st.max_bytes);
    CHECK(e->state[0] == 1); /* a, evicted meanwhile, is still whole for its holder */
    conv_cache_release(&c, e, 0);
    CHECK(conv_cache_delete(&c, "big") == 1 && conv_cache_delete(&c, "big") == 0);
    conv_cache_free(&c);
    /* off: nothing is kept */
    CHECK(conv_cache_init(&c, 0, 1 << 20, 1) == 0);
    CHECK(conv_cache_put(&c, NULL, bytes_of(10, 0), 10, NULL, 0, -1, 0, NULL) != 0);
    conv_cache_free(&c);
    CHECK(conv_hash(a, 4) == conv_hash_step(conv_hash(a, 3), 12));
}

static void test_json(void) {
    JsonWriter w;
    jw_init(&w, 0);
    oj_text(&w, "ok\xff\xc3(\xe2\x82\xac", 8); /* two bad bytes, then a euro sign */
    CHECK(strcmp(jw_text(&w), "\"ok\xEF\xBF\xBD\xEF\xBF\xBD(\xe2\x82\xac\"") == 0);
    jw_free(&w);
    ApiError e;
    api_error(&e, 400, "invalid_request_error", "temperature", "invalid_value", "bad %s", "value");
    jw_init(&w, 0);
    oj_error(&w, &e);
    BittError err;
    JsonDoc *doc = json_parse(jw_text(&w), w.len, "error", &err);
    CHECK(doc != NULL);
    const JsonValue *eo = doc ? json_get_typed(json_doc_root(doc), "error", JSON_OBJECT) : NULL;
    CHECK(eo && strcmp(json_get_string(eo, "message"), "bad value") == 0);
    CHECK(eo && strcmp(json_get_string(eo, "type"), "invalid_request_error") == 0);
    CHECK(eo && strcmp(json_get_string(eo, "param"), "temperature") == 0 && strcmp(json_get_string(eo, "code"), "invalid_value") == 0);
    json_doc_free(doc);
    jw_free(&w);
    api_error(&e, 500, "server_error", NULL, NULL, "x");
    jw_init(&w, 0);
    oj_error(&w, &e);
    CHECK(strstr(jw_text(&w), "\"param\":null,\"code\":null") != NULL);
    jw_free(&w);
}

int main(void) {
    test_requests();
    test_templates();
    test_cache();
    test_json();
    return test_main_end("test_server_core");
}
