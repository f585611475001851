/* recall_gen.h: the synthetic recall task (`bitt corpus --task recall`): does
 * a model remember what it read N tokens ago? Each document states a few
 * facts ("The blue cup holds a key."), then N tokens of filler story text
 * (whole stories joined by newlines, cut at a word), then asks about every
 * fact ("Question: What is in the blue cup? Answer: a key."). Only the
 * answer words are scored (`bitt eval --task recall`). Documents are
 * separated by <|endoftext|> as in TinyStories. The gap N is counted in
 * tokens of the given tokenizer. The answer key, a sidecar FILE.json, gives
 * each document's byte range and each answer's bytes and gap:
 *   {"format": "bitt-recall", "version": 1, "tokenizer_fingerprint": "...",
 *    "facts": K, "documents": [{"start": B, "end": B, "gap": N, "answers":
 *    [[start, end], ...]}, ...]}
 * The same seed, tokenizer and filler give the same bytes. */
#ifndef BITT_RECALL_GEN_H
#define BITT_RECALL_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "../tokenizer/tokenizer.h"
#include "../util/error.h"

#define RECALL_MAX_FACTS 8
#define RECALL_MAX_GAP (1 << 20)

typedef struct RecallDoc {
    uint64_t start, end;                         /* bytes of the document in the corpus text */
    int32_t gap;                                  /* filler tokens asked for */
    int n_answers;
    uint64_t answer[RECALL_MAX_FACTS][2];         /* bytes [start, end) of each answer in the text */
} RecallDoc;

typedef struct RecallCorpus {
    char *text;           /* NUL-terminated */
    size_t len;
    RecallDoc *docs;
    size_t n_docs;
    int facts;
} RecallCorpus;

typedef struct RecallOptions {
    const int32_t *gaps;  /* filler tokens, one document each per gap and round */
    int n_gaps;
    int docs_per_gap;
    int facts;            /* 1..RECALL_MAX_FACTS */
    uint64_t seed;
    const char *filler;   /* text of stories separated by <|endoftext|>, or NULL: synthetic stories */
    size_t filler_len;
} RecallOptions;

int recall_corpus_make(const Tokenizer *tok, const RecallOptions *o, RecallCorpus *out, BittError *err);
void recall_corpus_free(RecallCorpus *c);

/* The answer key (text written next to the corpus as path). */
int recall_key_write(const RecallCorpus *c, const char *tokenizer_fingerprint, const char *path, BittError *err);
/* Reads a key; every range is checked against text_len (the corpus). */
int recall_key_read(const char *path, size_t text_len, RecallCorpus *out, char fingerprint[17], BittError *err);
/* The same from the key's text in memory (path names it in messages). */
int recall_key_parse(const char *json, size_t json_len, const char *path, size_t text_len, RecallCorpus *out,
                     char fingerprint[17], BittError *err);

#endif
