/* story_words.h: the word lists and sentence templates of the synthetic
 * story corpus (story_words.c), used by the generator in story_gen.c.
 *
 * Templates are plain text with slots in braces: {key} is replaced by the
 * story's choice for key (see story_gen.c for the keys), {^key} is the same
 * with a capital first letter, {a:key} puts "a" or "an" before it. */
#ifndef BITT_STORY_WORDS_H
#define BITT_STORY_WORDS_H

#include <stddef.h>

typedef struct StoryList {
    const char *const *items;
    size_t n;
} StoryList;

/* A named character: child or animal; she: 1 for she/her, 0 for he/him. */
typedef struct StoryCharacter {
    const char *name;
    const char *kind;
    int she;
} StoryCharacter;

extern const StoryCharacter STORY_CHILDREN[];
extern const size_t STORY_N_CHILDREN;
extern const StoryCharacter STORY_ANIMALS[];
extern const size_t STORY_N_ANIMALS;

/* Word lists, by the slot they fill. */
extern const StoryList STORY_ADJECTIVES, STORY_PLACES, STORY_OBJECTS, STORY_COLORS, STORY_GOOD_FEELINGS,
    STORY_BAD_FEELINGS, STORY_TIMES, STORY_ACTIVITIES, STORY_FOODS, STORY_FAMILY, STORY_TOOLS, STORY_HIGH_SPOTS,
    STORY_SEARCH_SPOTS, STORY_CRAFTS, STORY_CRAFT_TROUBLES, STORY_SCARY_THINGS, STORY_WEATHER;

/* Sentence templates for each part of a story. */
extern const StoryList T_OPENING, T_TRAIT, T_WANT_REACH, T_PROBLEM_REACH, T_HELP_REACH, T_WANT_LOST,
    T_PROBLEM_LOST, T_HELP_LOST, T_WANT_MAKE, T_PROBLEM_MAKE, T_HELP_MAKE, T_WANT_BRAVE, T_PROBLEM_BRAVE,
    T_HELP_BRAVE, T_FRIEND_ARRIVES, T_FRIEND_ASKS, T_HAPPY, T_ENDING, T_MORAL;

#endif
