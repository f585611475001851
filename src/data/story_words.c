/* story_words.c: the vocabulary of the synthetic children's stories (a few
 * hundred distinct words) and the sentence templates the generator
 * (story_gen.c) strings together. Everything here was written for this
 * project. */
#include "story_words.h"

#define LIST(name, ...)                                                         \
    static const char *const name##_items[] = {__VA_ARGS__};                    \
    const StoryList name = {name##_items, sizeof name##_items / sizeof *name##_items}

const StoryCharacter STORY_CHILDREN[] = {
    {"Lily", "girl", 1},  {"Mia", "girl", 1},   {"Anna", "girl", 1},  {"Sue", "girl", 1},
    {"Lucy", "girl", 1},  {"Emma", "girl", 1},  {"Zoe", "girl", 1},   {"Ella", "girl", 1},
    {"Rosa", "girl", 1},  {"Kate", "girl", 1},  {"Amy", "girl", 1},   {"Nina", "girl", 1},
    {"Ruby", "girl", 1},  {"Daisy", "girl", 1}, {"Molly", "girl", 1}, {"Sara", "girl", 1},
    {"Tom", "boy", 0},    {"Ben", "boy", 0},    {"Max", "boy", 0},    {"Sam", "boy", 0},
    {"Jack", "boy", 0},   {"Leo", "boy", 0},    {"Tim", "boy", 0},    {"Finn", "boy", 0},
    {"Jake", "boy", 0},   {"Noah", "boy", 0},   {"Bob", "boy", 0},    {"Dan", "boy", 0},
    {"Joe", "boy", 0},    {"Luke", "boy", 0},   {"Ned", "boy", 0},    {"Oscar", "boy", 0},
};
const size_t STORY_N_CHILDREN = sizeof STORY_CHILDREN / sizeof *STORY_CHILDREN;

const StoryCharacter STORY_ANIMALS[] = {
    {"Spot", "dog", 0},     {"Whiskers", "cat", 1}, {"Hoppy", "bunny", 1}, {"Quack", "duck", 0},
    {"Fluffy", "kitten", 1}, {"Buzz", "bee", 0},    {"Pip", "mouse", 0},   {"Tweet", "bird", 1},
    {"Benny", "bear", 0},   {"Ribbit", "frog", 0},  {"Rusty", "fox", 0},   {"Shelly", "turtle", 1},
    {"Hoot", "owl", 0},     {"Nutty", "squirrel", 1}, {"Bella", "cow", 1}, {"Piggy", "pig", 0},
    {"Goldie", "fish", 1},  {"Rory", "lion", 0},     {"Ellie", "elephant", 1}, {"Sunny", "puppy", 0},
};
const size_t STORY_N_ANIMALS = sizeof STORY_ANIMALS / sizeof *STORY_ANIMALS;

LIST(STORY_ADJECTIVES, "little", "happy", "kind", "brave", "curious", "shy", "funny", "small", "big", "gentle",
     "clever", "silly", "friendly", "sleepy", "playful", "busy", "quiet", "cheerful", "tiny", "smart", "good",
     "polite", "young", "helpful", "lively", "careful", "honest", "bright", "sweet", "proud");
LIST(STORY_PLACES, "park", "garden", "forest", "beach", "farm", "pond", "river", "hill", "meadow", "town",
     "school", "backyard", "lake", "field", "playground", "zoo", "library", "village", "market", "woods");
LIST(STORY_OBJECTS, "ball", "kite", "balloon", "hat", "toy car", "teddy bear", "flower", "shell", "book",
     "drum", "doll", "train", "boat", "star", "ribbon", "scarf", "bell", "cup", "rock", "leaf", "feather",
     "box", "toy plane", "blanket", "crayon", "marble", "whistle", "umbrella", "bucket", "sock");
LIST(STORY_COLORS, "red", "blue", "green", "yellow", "pink", "purple", "orange", "shiny", "white", "brown",
     "golden", "striped");
LIST(STORY_GOOD_FEELINGS, "happy", "glad", "excited", "proud", "joyful", "thankful", "calm");
LIST(STORY_BAD_FEELINGS, "sad", "upset", "worried", "scared", "lonely", "grumpy", "unhappy");
LIST(STORY_TIMES, "One sunny day", "One morning", "One windy afternoon", "One cold winter day",
     "One warm summer day", "One rainy morning", "One bright spring day", "One evening", "Last week",
     "One quiet night");
LIST(STORY_ACTIVITIES, "run and jump", "sing songs", "play with blocks", "draw pictures", "dance",
     "read books", "splash in puddles", "climb trees", "look at the stars", "play hide and seek",
     "ride a bike", "pick flowers", "build things", "help in the kitchen", "swim");
LIST(STORY_FOODS, "cookies", "apples", "soup", "cake", "bread and jam", "pancakes", "ice cream", "carrots",
     "cheese", "berries", "milk", "pie", "bananas", "honey", "sandwiches");
LIST(STORY_FAMILY, "mom", "dad", "grandma", "grandpa", "sister", "brother", "teacher", "aunt");
LIST(STORY_TOOLS, "a long stick", "a ladder", "a rope", "a big box", "a net", "a chair", "a broom",
     "a basket");
LIST(STORY_HIGH_SPOTS, "high up in a tall tree", "on top of the big shelf", "in the middle of the pond",
     "on the roof of the old house", "behind a heavy rock", "stuck in a thorny bush", "at the bottom of a deep hole",
     "on the other side of the fence");
LIST(STORY_SEARCH_SPOTS, "under the bed", "behind the door", "in the garden", "near the old tree",
     "inside a big box", "by the river", "under the table", "in the toy box", "behind the sofa",
     "next to the gate", "under a pile of leaves", "in the tall grass");
LIST(STORY_CRAFTS, "cake", "sand castle", "card", "tower of blocks", "paper boat", "snowman", "kite",
     "little house", "painting", "hat");
LIST(STORY_CRAFT_TROUBLES, "the wind blew it away", "it fell down with a loud crash", "it broke into many pieces",
     "the rain made it wet and soft", "a big dog ran by and knocked it over", "it did not look right");
LIST(STORY_SCARY_THINGS, "the dark", "the loud thunder", "the big slide", "the deep water", "the tall ladder",
     "the noisy storm", "the big wave", "the old bridge");
LIST(STORY_WEATHER, "The sun was warm.", "The sky was blue.", "The wind was cold.", "It was a very nice day.",
     "The birds were singing.", "There were white clouds in the sky.");

LIST(T_OPENING, "Once upon a time, there was {a:adj} {kind} named {Name}.",
     "{time}, {a:adj} {kind} named {Name} went to the {place}.",
     "{Name} was {a:adj} {kind} who lived near the {place}.",
     "There was once {a:adj} {kind}. {^his} name was {Name}.",
     "Once upon a time, {a:adj} {kind} named {Name} lived in a small house.");
LIST(T_TRAIT, "{^he} liked to {activity} every day.", "{^he} loved to {activity} with {his} {family}.",
     "Every day, {Name} liked to {activity}.", "{Name} was very {adj} and loved to {activity}.",
     "{weather} {Name} wanted to {activity}.");
LIST(T_WANT_REACH, "{time}, {Name} saw {a:color} {obj} at the {place}.",
     "One day, {Name} found {a:color} {obj}. {^he} thought it was very pretty.",
     "{Name} wanted {a:color} {obj} more than anything.",
     "At the {place}, {Name} saw {a:color} {obj} and wanted to play with it.");
LIST(T_PROBLEM_REACH, "But the {obj} was {spot}. {Name} tried and tried, but {he} could not get it.",
     "Then the wind took the {obj}, and now it was {spot}. {Name} could not reach it.",
     "But the {obj} fell, and it was {spot}. {Name} was too small to get it.");
LIST(T_HELP_REACH, "{Friend} found {tool} and used it to get the {obj}.",
     "{Friend} thought for a moment. Then {fhe} got {tool}, and together they got the {obj} back.",
     "{Friend} was very clever. {^fhe} used {tool} to reach the {obj} and gave it to {Name}.");
LIST(T_WANT_LOST, "{Name} had {a:color} {obj} that {he} loved very much.",
     "{Name} had a favorite toy. It was {a:color} {obj}.",
     "{Name} always took {his} {color} {obj} to the {place}.");
LIST(T_PROBLEM_LOST, "One day, {he} could not find it. {^he} looked {loc1}, but it was not there.",
     "{time}, the {obj} was gone! {Name} looked {loc1} and {loc2}, but {he} could not find it.",
     "Then {he} lost it. {^he} looked {loc1}. It was not there.");
LIST(T_HELP_LOST, "\"Let us look together,\" said {Friend}. They looked {loc3}, and there it was!",
     "{Friend} said, \"I saw something {loc3}!\" They ran to look, and they found the {obj}.",
     "{Friend} helped {him} look. At last, {Friend} found the {obj} {loc3}.");
LIST(T_WANT_MAKE, "{Name} wanted to make a {craft} for {his} {family}.",
     "{time}, {Name} decided to make a {craft}. {^he} worked very hard.",
     "{Name} liked to make things. One day, {he} started to make a big {craft}.");
LIST(T_PROBLEM_MAKE, "But then {trouble}. The {craft} was ruined.",
     "{Name} was almost done when {trouble}.",
     "Oh no! Just as {he} finished, {trouble}.");
LIST(T_HELP_MAKE, "\"We can make a new one together,\" said {Friend}. They worked side by side.",
     "{Friend} helped {Name} make a new {craft}. This time it was even better.",
     "{Friend} brought {tool}, and they made the {craft} again, slowly and carefully.");
LIST(T_WANT_BRAVE, "{Name} wanted to go to the {place} with {his} {family}.",
     "{time}, {Name} wanted to play at the {place}.",
     "{Name} wanted to be brave like {his} {family}.");
LIST(T_PROBLEM_BRAVE, "But {Name} was scared of {scary}. {^he} did not want to go.",
     "When {he} saw {scary}, {he} stopped. {^he} felt very small.",
     "But there was {scary}, and {Name} was afraid of it.");
LIST(T_HELP_BRAVE, "{Friend} held {his} hand and said, \"Do not be afraid. I am here with you.\"",
     "\"I was scared too, once,\" said {Friend}. \"We can do it together.\"",
     "{Friend} smiled and said, \"Be brave, {Name}. You can do it!\" So {Name} tried.");
LIST(T_FRIEND_ARRIVES, "Then {Friend} the {fkind} came by.", "Just then, {a:fadj} {fkind} named {Friend} walked over.",
     "{^his} friend {Friend} the {fkind} saw {him}.", "Soon, {Friend} the {fkind} came to the {place}.");
LIST(T_FRIEND_ASKS, "\"Why are you {bad}, {Name}?\" asked {Friend}.",
     "\"What is wrong, {Name}?\" asked {Friend}. {Name} told {fhim} everything.",
     "{Friend} saw that {Name} was {bad}. \"I can help you,\" said {Friend}.");
LIST(T_HAPPY, "{Name} was so {good}. \"Thank you, {Friend}!\" {he} said.",
     "{Name} smiled a big smile. {^he} felt {good}.", "\"Hooray!\" said {Name}. {^he} hugged {Friend}.",
     "{Name} jumped up and down. {^he} was very {good}.");
LIST(T_ENDING, "They played together until the sun went down.", "Then they went home and ate {food}.",
     "It was the best day ever.", "After that, they shared {food} at the {place}.",
     "{Name} and {Friend} laughed and played all day.", "That night, {Name} went to sleep with a smile.");
LIST(T_MORAL, "From that day on, {Name} and {Friend} were best friends.",
     "{Name} learned that it is good to ask for help.", "{Name} learned that friends help each other.",
     "", "");
