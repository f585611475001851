/* cmd_init.c: `bitt init`: a random-weight model (SPEC 1.2 initialisation)
 * written as a .bitt file (v1, or v2 with --packed) or a checkpoint dir. */
#include <string.h>

#include "../model/model_file.h"
#include "cli.h"

int cmd_init(int argc, char **argv) {
    const char *out = NULL, *tokenizer = NULL, *variant = "linear", *forget_gate = "on";
    int dim = 256, layers = 8, heads = 0, vocab = 16384, intermediate = 0, mini_batch = 16;
    int packed = 0, no_act_quant = 0, embed_i8 = 0;
    const char *embed = NULL;
    uint64_t seed = 1;
    float state_decay = 1.0f;
    Flag flags[] = {
        {"out", FLAG_STRING, &out, "output: NAME.bitt file, or a checkpoint directory (required)", 0},
        {"dim", FLAG_INT, &dim, "hidden size D (default 256)", 0},
        {"layers", FLAG_INT, &layers, "number of layers L (default 8)", 0},
        {"heads", FLAG_INT, &heads, "TTT heads H (default D/64)", 0},
        {"vocab", FLAG_INT, &vocab, "vocabulary size of a synthetic tokenizer (default 16384)", 0},
        {"tokenizer", FLAG_STRING, &tokenizer, "use this tokenizer.json (vocab from it)", 0},
        {"intermediate", FLAG_INT, &intermediate, "SwiGLU hidden size (default 4*D)", 0},
        {"mini-batch", FLAG_INT, &mini_batch, "TTT mini-batch size b (default 16)", 0},
        {"variant", FLAG_STRING, &variant, "TTT mixer: linear (default), seed or none", 0},
        {"no-act-quant", FLAG_BOOL, &no_act_quant, "keep activations in float (act_quant none)", 0},
        {"state-decay", FLAG_FLOAT, &state_decay, "TTT-Linear bounded memory, in (0, 1]; 1 (default) is SPEC 1.2 "
                                                  "(docs/TTT_MEMORY.md)", 0},
        {"forget-gate", FLAG_STRING, &forget_gate, "on or off: the learned forget gate of the linear mixer's memory "
                                                   "(SPEC 1.2.1; default on for linear, off with --state-decay < 1)", 0},
        {"seed", FLAG_U64, &seed, "random seed (default 1)", 0},
        {"packed", FLAG_BOOL, &packed, "write .bitt v2 (2-bit ternary, f16 embeddings unless --embed i8)", 0},
        {"embed", FLAG_STRING, &embed, "with --packed: embed and lm_head as f16 (default) or i8 (int8 rows + a scale "
                                       "per row: half the bytes)", 0},
    };
    Command cmd = {"init", "--out M [--dim D --layers L --heads H --vocab N | --tokenizer T.json] [flags]",
                   "Writes a model with random weights (for tests, benchmarks, or as a start).",
                   flags, (int)(sizeof flags / sizeof *flags), 0, {0}, 0};
    int rc = args_parse(&cmd, argc, argv);
    if (rc) return rc < 0 ? 1 : 0;
    if (!out) return cli_fail("init", "--out is required");
    TttVariant v;
    if (ttt_variant_parse(variant, &v) != 0)
        return cli_fail("init", "--variant: unknown TTT variant '%s' (linear, seed or none)", variant);
    int bitt_file = cli_is_bitt_path(out);
    if (packed && !bitt_file) return cli_fail("init", "--packed needs an output ending in .bitt");
    if (cli_embed_form("init", embed, packed, 0, &embed_i8) != 0) return 1;
    if (tokenizer && args_seen(&cmd, "vocab"))
        return cli_fail("init", "give either --vocab or --tokenizer, not both");

    BittError err;
    Tokenizer *tok = tokenizer ? tokenizer_load_file(tokenizer, &err) : tokenizer_make_synthetic(vocab, &err);
    if (!tok) return cli_fail("init", "%s", err.message);
    ModelConfig cfg;
    config_init(&cfg, tokenizer_vocab_size(tok), dim, layers, v);
    if (heads) cfg.num_heads = heads;
    if (intermediate) cfg.intermediate_dim = intermediate;
    cfg.mini_batch = mini_batch;
    if (no_act_quant) cfg.act_quant = 0;
    cfg.state_decay = state_decay;
    if (cli_forget_gate("init", forget_gate, args_seen(&cmd, "forget-gate"), v, state_decay, &cfg.forget_gate) != 0) {
        tokenizer_free(tok);
        return 1;
    }
    if (config_validate(&cfg, "bitt init", &err) != 0) {
        tokenizer_free(tok);
        return cli_fail("init", "%s", err.message);
    }
    Model *m = model_alloc(&cfg, tok, &err);
    if (!m) return cli_fail("init", "%s", err.message);
    model_init_random(m, seed);
    rc = model_finish_load(m, &err);
    const BittEmbedForm form = embed_i8 ? BITT_EMBED_I8 : BITT_EMBED_F16;
    if (!rc) rc = bitt_file ? model_save_bitt_as(m, out, packed ? 2 : 1, form, &err) : model_save_checkpoint(m, out, &err);
    if (rc) {
        model_free(m);
        return cli_fail("init", "%s", err.message);
    }
    fprintf(stderr, "wrote %s: %s, %lld parameters, D=%d L=%d H=%d V=%d, variant %s%s\n", out,
            bitt_file ? (packed ? (embed_i8 ? ".bitt v2, I8 embeddings" : ".bitt v2, F16 embeddings") : ".bitt v1")
                      : "checkpoint directory",
            (long long)m->n_values, cfg.hidden_dim, cfg.num_layers, cfg.num_heads, cfg.vocab_size,
            ttt_variant_name(cfg.variant), cfg.forget_gate ? " with the forget gate" : "");
    model_free(m);
    return 0;
}
