/* cmd_convert.c: `bitt convert IN OUT [--packed [--embed i8|f16]]`: between
 * checkpoint directories, .bitt v1 (float32) and .bitt v2 (packed ternary;
 * embed and lm_head as int8 rows with a scale per row by default, or f16).
 * Latent float weights are kept when the input has them, so dir -> v1 -> dir
 * is lossless; v2 -> float writes weights that quantise back exactly (int8
 * rows are written dequantised: value = int8 * row_scale). */
#include "../model/model_file.h"
#include "cli.h"

int cmd_convert(int argc, char **argv) {
    int packed = 0, embed_i8 = 1;
    const char *embed = NULL;
    Flag flags[] = {
        {"packed", FLAG_BOOL, &packed, "write .bitt v2 (2-bit ternary + scales, int8 embeddings unless --embed f16)", 0},
        {"embed", FLAG_STRING, &embed, "with --packed: embed and lm_head as i8 (default: int8 rows + a scale per row) "
                                       "or f16 (twice the bytes, closer to the float model)", 0},
    };
    Command cmd = {"convert", "IN OUT [--packed [--embed i8|f16]]",
                   "Converts a model: IN and OUT are each a .bitt file or a checkpoint directory.",
                   flags, (int)(sizeof flags / sizeof *flags), 2, {0}, 0};
    int rc = args_parse(&cmd, argc, argv);
    if (rc) return rc < 0 ? 1 : 0;
    if (cmd.n_positional != 2) return cli_fail("convert", "needs IN and OUT (see bitt convert --help)");
    const char *in = cmd.positional[0], *out = cmd.positional[1];
    const int to_file = cli_is_bitt_path(out);
    if (packed && !to_file) return cli_fail("convert", "--packed needs an output ending in .bitt");
    if (cli_embed_form("convert", embed, packed, 1, &embed_i8) != 0) return 1;
    BittError err;
    Model *m = model_load(in, 1, &err);
    if (!m) return cli_fail("convert", "%s", err.message);
    const BittEmbedForm form = embed_i8 ? BITT_EMBED_I8 : BITT_EMBED_F16;
    rc = to_file ? model_save_bitt_as(m, out, packed ? 2 : 1, form, &err) : model_save_checkpoint(m, out, &err);
    if (rc) {
        model_free(m);
        return cli_fail("convert", "%s", err.message);
    }
    fprintf(stderr, "wrote %s (%s)\n", out,
            to_file ? (packed ? (embed_i8 ? ".bitt v2, I8 embeddings" : ".bitt v2, F16 embeddings") : ".bitt v1")
                    : "checkpoint directory");
    model_free(m);
    return 0;
}
