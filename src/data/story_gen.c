/* story_gen.c: the synthetic story generator (see story_gen.h): picks the
 * characters and words of a story, chooses one of four plots (something
 * out of reach, something lost, something to make, something scary) and
 * fills the templates of story_words.c. */
#include "story_gen.h"

#include <stdlib.h>
#include <string.h>

#include "../sampling/rng.h"
#include "../util/textbuf.h"
#include "story_words.h"

typedef TextBuf Buf;

static void buf_add(Buf *b, const char *s, size_t n) { tb_append(b, s, n); }

static void buf_str(Buf *b, const char *s) { buf_add(b, s, strlen(s)); }

/* The choices of one story: the value of every template slot. */
typedef struct Story {
    StoryCharacter hero, friend_;
    const char *adj, *fadj, *place, *obj, *color, *good, *bad, *time, *activity, *food, *family, *tool, *spot,
        *loc[3], *craft, *trouble, *scary, *weather;
} Story;

static size_t pick_index(BittRng *r, size_t n) { return (size_t)(rng_next_u64(r) % n); }
static const char *pick(BittRng *r, const StoryList *l) { return l->items[pick_index(r, l->n)]; }
static int chance(BittRng *r, int percent) { return (int)(rng_next_u64(r) % 100) < percent; }

static const char *slot_value(const Story *s, const char *key, size_t n) {
#define KEY(k) (n == sizeof(k) - 1 && memcmp(key, k, n) == 0)
    if (KEY("Name")) return s->hero.name;
    if (KEY("kind")) return s->hero.kind;
    if (KEY("he")) return s->hero.she ? "she" : "he";
    if (KEY("his")) return s->hero.she ? "her" : "his";
    if (KEY("him")) return s->hero.she ? "her" : "him";
    if (KEY("Friend")) return s->friend_.name;
    if (KEY("fkind")) return s->friend_.kind;
    if (KEY("fhe")) return s->friend_.she ? "she" : "he";
    if (KEY("fhim")) return s->friend_.she ? "her" : "him";
    if (KEY("adj")) return s->adj;
    if (KEY("fadj")) return s->fadj;
    if (KEY("place")) return s->place;
    if (KEY("obj")) return s->obj;
    if (KEY("color")) return s->color;
    if (KEY("good")) return s->good;
    if (KEY("bad")) return s->bad;
    if (KEY("time")) return s->time;
    if (KEY("activity")) return s->activity;
    if (KEY("food")) return s->food;
    if (KEY("family")) return s->family;
    if (KEY("tool")) return s->tool;
    if (KEY("spot")) return s->spot;
    if (KEY("loc1")) return s->loc[0];
    if (KEY("loc2")) return s->loc[1];
    if (KEY("loc3")) return s->loc[2];
    if (KEY("craft")) return s->craft;
    if (KEY("trouble")) return s->trouble;
    if (KEY("scary")) return s->scary;
    if (KEY("weather")) return s->weather;
#undef KEY
    return NULL;
}

/* "an" before a vowel sound (and "honest"), else "a". */
static const char *article(const char *word) {
    if (strchr("aeiouAEIOU", word[0]) || strncmp(word, "hon", 3) == 0) return "an";
    return "a";
}

/* Appends a template with its slots filled; returns -1 on an unknown slot
 * (a bug in the templates). */
static int fill(Buf *b, const Story *s, const char *tpl) {
    while (*tpl) {
        const char *open = strchr(tpl, '{'), *close, *key;
        const char *value;
        int cap = 0, with_article = 0;
        char first[2];
        if (!open) {
            buf_str(b, tpl);
            break;
        }
        buf_add(b, tpl, (size_t)(open - tpl));
        if (!(close = strchr(open, '}'))) return -1;
        key = open + 1;
        if (strncmp(key, "a:", 2) == 0) {
            with_article = 1;
            key += 2;
        }
        if (*key == '^') {
            cap = 1;
            key++;
        }
        if (!(value = slot_value(s, key, (size_t)(close - key)))) return -1;
        if (with_article) {
            buf_str(b, article(value));
            buf_str(b, " ");
        }
        first[0] = cap && value[0] >= 'a' && value[0] <= 'z' ? (char)(value[0] - 'a' + 'A') : value[0];
        first[1] = '\0';
        buf_add(b, first, 1);
        buf_str(b, value + 1);
        tpl = close + 1;
    }
    return 0;
}

/* Appends one sentence (template) and the space or paragraph break after it. */
static int sentence(Buf *b, const Story *s, const char *tpl, const char *after) {
    if (!tpl[0]) return 0; /* an empty template: nothing said */
    if (fill(b, s, tpl)) return -1;
    buf_str(b, after);
    return 0;
}

static StoryCharacter pick_character(BittRng *r) {
    if (chance(r, 60)) return STORY_CHILDREN[pick_index(r, STORY_N_CHILDREN)];
    return STORY_ANIMALS[pick_index(r, STORY_N_ANIMALS)];
}

static void choose(Story *s, BittRng *r) {
    int i;
    s->hero = pick_character(r);
    do s->friend_ = pick_character(r);
    while (strcmp(s->friend_.name, s->hero.name) == 0);
    s->adj = pick(r, &STORY_ADJECTIVES);
    s->fadj = pick(r, &STORY_ADJECTIVES);
    s->place = pick(r, &STORY_PLACES);
    s->obj = pick(r, &STORY_OBJECTS);
    s->color = pick(r, &STORY_COLORS);
    s->good = pick(r, &STORY_GOOD_FEELINGS);
    s->bad = pick(r, &STORY_BAD_FEELINGS);
    s->time = pick(r, &STORY_TIMES);
    s->activity = pick(r, &STORY_ACTIVITIES);
    s->food = pick(r, &STORY_FOODS);
    s->family = pick(r, &STORY_FAMILY);
    s->tool = pick(r, &STORY_TOOLS);
    s->spot = pick(r, &STORY_HIGH_SPOTS);
    for (i = 0; i < 3; i++) { /* three different places to search */
        int j, again;
        do {
            s->loc[i] = pick(r, &STORY_SEARCH_SPOTS);
            for (again = 0, j = 0; j < i; j++) again |= s->loc[j] == s->loc[i];
        } while (again);
    }
    s->craft = pick(r, &STORY_CRAFTS);
    s->trouble = pick(r, &STORY_CRAFT_TROUBLES);
    s->scary = pick(r, &STORY_SCARY_THINGS);
    s->weather = pick(r, &STORY_WEATHER);
}

static int one_story(Buf *b, BittRng *r) {
    static const StoryList *const want[4] = {&T_WANT_REACH, &T_WANT_LOST, &T_WANT_MAKE, &T_WANT_BRAVE};
    static const StoryList *const problem[4] = {&T_PROBLEM_REACH, &T_PROBLEM_LOST, &T_PROBLEM_MAKE, &T_PROBLEM_BRAVE};
    static const StoryList *const help[4] = {&T_HELP_REACH, &T_HELP_LOST, &T_HELP_MAKE, &T_HELP_BRAVE};
    Story s;
    int plot, paragraphs, rc = 0;
    const char *brk;
    choose(&s, r);
    plot = (int)pick_index(r, 4);
    paragraphs = chance(r, 50);
    brk = paragraphs ? "\n\n" : " ";
    rc |= sentence(b, &s, pick(r, &T_OPENING), " ");
    if (chance(r, 70)) rc |= sentence(b, &s, pick(r, &T_TRAIT), " ");
    b->len -= 1; /* the last space becomes the break */
    buf_str(b, brk);
    rc |= sentence(b, &s, pick(r, want[plot]), " ");
    rc |= sentence(b, &s, pick(r, problem[plot]), " ");
    if (chance(r, 50)) rc |= sentence(b, &s, "{Name} felt {bad}.", " ");
    b->len -= 1;
    buf_str(b, brk);
    rc |= sentence(b, &s, pick(r, &T_FRIEND_ARRIVES), " ");
    if (chance(r, 70)) rc |= sentence(b, &s, pick(r, &T_FRIEND_ASKS), " ");
    rc |= sentence(b, &s, pick(r, help[plot]), " ");
    rc |= sentence(b, &s, pick(r, &T_HAPPY), " ");
    b->len -= 1;
    buf_str(b, brk);
    rc |= sentence(b, &s, pick(r, &T_ENDING), " ");
    if (chance(r, 40)) rc |= sentence(b, &s, pick(r, &T_ENDING), " ");
    if (plot == 3 && chance(r, 50))
        rc |= sentence(b, &s, "{Name} learned that being brave is not so hard with a friend.", " ");
    else
        rc |= sentence(b, &s, pick(r, &T_MORAL), " ");
    b->len -= 1; /* no space at the end of the story */
    buf_str(b, "\n<|endoftext|>\n");
    return rc;
}

int story_corpus_make(uint64_t seed, int n_stories, char **text, size_t *len, BittError *err) {
    Buf b = {NULL, 0, 0, 0};
    BittRng r;
    int i;
    *text = NULL;
    *len = 0;
    if (n_stories < 1 || n_stories > STORY_GEN_MAX_STORIES)
        return bitt_fail(err, "corpus: %d stories: the number must be 1..%d", n_stories, STORY_GEN_MAX_STORIES);
    rng_seed(&r, seed);
    buf_str(&b, "");
    for (i = 0; i < n_stories && !b.failed; i++)
        if (one_story(&b, &r)) {
            free(b.p);
            return bitt_fail(err, "corpus: a story template has a bad slot (a bug)");
        }
    if (b.failed) {
        free(b.p);
        return bitt_fail(err, "corpus: out of memory after %d stories", i);
    }
    *text = b.p;
    *len = b.len;
    return 0;
}
