/* cmd_convert.c: `bitt convert IN OUT [--packed]`: between checkpoint
 * directories, .bitt v1 (float32) and .bitt v2 (packed ternary). Latent
 * float weights are kept when the input has them, so dir -> v1 -> dir is
 * lossless; v2 -> float writes weights that quantise back exactly. */
#include "../model/model_file.h"
#include "cli.h"

int cmd_convert(int argc, char **argv) {
    int packed = 0;
    Flag flags[] = {
        {"packed", FLAG_BOOL, &packed, "write .bitt v2 (2-bit ternary + scales, f16 embeddings)", 0},
    };
    Command cmd = {"convert", "IN OUT [--packed]",
                   "Converts a model: IN and OUT are each a .bitt file or a checkpoint directory.",
                   flags, (int)(sizeof flags / sizeof *flags), 2, {0}, 0};
    int rc = args_parse(&cmd, argc, argv);
    if (rc) return rc < 0 ? 1 : 0;
    if (cmd.n_positional != 2) return cli_fail("convert", "needs IN and OUT (see bitt convert --help)");
    const char *in = cmd.positional[0], *out = cmd.positional[1];
    const int to_file = cli_is_bitt_path(out);
    if (packed && !to_file) return cli_fail("convert", "--packed needs an output ending in .bitt");
    BittError err;
    Model *m = model_load(in, 1, &err);
    if (!m) return cli_fail("convert", "%s", err.message);
    rc = to_file ? model_save_bitt(m, out, packed ? 2 : 1, &err) : model_save_checkpoint(m, out, &err);
    if (rc) {
        model_free(m);
        return cli_fail("convert", "%s", err.message);
    }
    fprintf(stderr, "wrote %s (%s)\n", out, to_file ? (packed ? ".bitt v2" : ".bitt v1") : "checkpoint directory");
    model_free(m);
    return 0;
}
