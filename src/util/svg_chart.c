/* svg_chart.c: line charts as SVG (see svg_chart.h). */
#include "svg_chart.h"

#include <math.h>
#include <stdlib.h>

#include "fileio.h"
#include "textbuf.h"

#define PW 800
#define PH 450
#define ML 70
#define MR 20
#define MT 40
#define MB 50

/* A "nice" tick step (1, 2, 5 x 10^k) for about n ticks over span. */
static double nice_step(double span, int n) {
    double raw = span / n, mag = pow(10.0, floor(log10(raw)));
    double r = raw / mag;
    return (r < 1.5 ? 1 : r < 3.5 ? 2 : r < 7.5 ? 5 : 10) * mag;
}

typedef struct Axes {
    double x0, x1, y0, y1;   /* data range (x in log10 when log_x) */
    int log_x;
} Axes;

static double px(const Axes *a, double x) {
    const double v = a->log_x ? log10(x) : x;
    return ML + (v - a->x0) / (a->x1 - a->x0) * (PW - ML - MR);
}

static double py(const Axes *a, double y) { return MT + (a->y1 - y) / (a->y1 - a->y0) * (PH - MT - MB); }

static int usable(const Axes *a, double x, double y) {
    return isfinite(x) && isfinite(y) && (!a->log_x || x > 0);
}

/* 1500 -> "1.5k", 20000 -> "20k", 3 -> "3" */
static void tick_label(TextBuf *b, double v) {
    if (fabs(v) >= 1e6) tb_printf(b, "%gM", v / 1e6);
    else if (fabs(v) >= 1e3) tb_printf(b, "%gk", v / 1e3);
    else tb_printf(b, "%g", v);
}

char *svg_chart_render(const SvgChart *c, size_t *len) {
    Axes a = {INFINITY, -INFINITY, INFINITY, -INFINITY, c->log_x};
    for (int s = 0; s < c->n_series; s++)
        for (size_t i = 0; i < c->series[s].n; i++) {
            const double x = c->series[s].x[i], y = c->series[s].y[i];
            if (!usable(&a, x, y)) continue;
            const double v = a.log_x ? log10(x) : x;
            a.x0 = fmin(a.x0, v);
            a.x1 = fmax(a.x1, v);
            a.y0 = fmin(a.y0, y);
            a.y1 = fmax(a.y1, y);
        }
    if (!isfinite(a.x0)) { a.x0 = 0; a.x1 = 1; }
    if (!isfinite(a.y0)) { a.y0 = 0; a.y1 = 1; }
    if (a.x1 - a.x0 < 1e-12) { a.x0 -= 0.5; a.x1 += 0.5; }
    if (a.y1 - a.y0 < 1e-6) { a.y0 -= 0.5; a.y1 += 0.5; }
    if (!a.log_x && a.x0 > 0) a.x0 = 0;
    const double ystep = nice_step(a.y1 - a.y0, 6);
    a.y0 = floor(a.y0 / ystep) * ystep;
    a.y1 = ceil(a.y1 / ystep) * ystep;
    if (a.log_x) { a.x0 = floor(a.x0); a.x1 = ceil(a.x1); }
    const double pw = PW - ML - MR, ph = PH - MT - MB;
    TextBuf b = {0};
    tb_printf(&b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                  "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
              PW, PH, PW, PH);
    tb_printf(&b, "<text x=\"%d\" y=\"24\" font-size=\"15\">", ML);
    tb_xml_text(&b, c->title ? c->title : "");
    tb_printf(&b, "</text>\n");
    for (double y = a.y0; y <= a.y1 + ystep * 0.01; y += ystep)
        tb_printf(&b, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                      "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
                  ML, PW - MR, py(&a, y), py(&a, y), ML - 6, py(&a, y) + 4, fabs(y) < ystep * 1e-9 ? 0.0 : y);
    if (a.log_x) {
        for (double e = a.x0; e <= a.x1 + 1e-9; e += 1) {
            const double x = pow(10.0, e), X = px(&a, x);
            tb_printf(&b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#eee\"/><text x=\"%.1f\" y=\"%d\" "
                          "text-anchor=\"middle\">", X, X, MT, PH - MB, X, PH - MB + 16);
            tick_label(&b, x);
            tb_printf(&b, "</text>\n");
        }
    } else {
        const double xstep = nice_step(a.x1 - a.x0, 8);
        for (double x = ceil(a.x0 / xstep) * xstep; x <= a.x1 + xstep * 0.01; x += xstep) {
            const double X = px(&a, x);
            tb_printf(&b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#eee\"/><text x=\"%.1f\" y=\"%d\" "
                          "text-anchor=\"middle\">", X, X, MT, PH - MB, X, PH - MB + 16);
            tick_label(&b, x);
            tb_printf(&b, "</text>\n");
        }
    }
    tb_printf(&b, "<rect x=\"%d\" y=\"%d\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"#444\"/>\n", ML, MT,
              pw, ph);
    tb_printf(&b, "<text x=\"%.0f\" y=\"%d\" text-anchor=\"middle\">", ML + pw / 2, PH - 12);
    tb_xml_text(&b, c->x_label ? c->x_label : "");
    tb_printf(&b, "</text>\n<text x=\"16\" y=\"%.0f\" transform=\"rotate(-90 16 %.0f)\" text-anchor=\"middle\">",
              MT + ph / 2, MT + ph / 2);
    tb_xml_text(&b, c->y_label ? c->y_label : "");
    tb_printf(&b, "</text>\n");
    for (int s = 0; s < c->n_series; s++) {
        const SvgSeries *sr = &c->series[s];
        tb_printf(&b, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%g\"%s points=\"", sr->color, sr->width,
                  sr->dashed ? " stroke-dasharray=\"6 4\"" : "");
        for (size_t i = 0; i < sr->n; i++)
            if (usable(&a, sr->x[i], sr->y[i])) tb_printf(&b, "%.1f,%.1f ", px(&a, sr->x[i]), py(&a, sr->y[i]));
        tb_printf(&b, "\"/>\n");
        if (sr->markers)
            for (size_t i = 0; i < sr->n; i++)
                if (usable(&a, sr->x[i], sr->y[i]))
                    tb_printf(&b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", px(&a, sr->x[i]),
                              py(&a, sr->y[i]), sr->color);
    }
    /* the legend in the corner of the plot that hides the fewest points */
    const int lw = 250, lh = 16 * c->n_series + 10;
    int lx = PW - MR - lw, ly = MT + 14, fewest = -1;
    for (int corner = 0; corner < 4; corner++) {
        const int x0 = corner & 1 ? ML + 10 : PW - MR - lw - 4, y0 = corner & 2 ? PH - MB - lh - 4 : MT + 4;
        int hidden = 0;
        for (int s = 0; s < c->n_series; s++)
            for (size_t i = 0; i < c->series[s].n; i++) {
                if (!usable(&a, c->series[s].x[i], c->series[s].y[i])) continue;
                const double X = px(&a, c->series[s].x[i]), Y = py(&a, c->series[s].y[i]);
                hidden += X >= x0 && X <= x0 + lw && Y >= y0 && Y <= y0 + lh;
            }
        if (fewest < 0 || hidden < fewest) {
            fewest = hidden;
            lx = x0 + 6;
            ly = y0 + 12;
        }
    }
    tb_printf(&b, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"white\" stroke=\"#ccc\"/>\n", lx - 6,
              ly - 12, lw - 10, lh);
    for (int s = 0; s < c->n_series; s++) {
        const int y = ly + 16 * s;
        tb_printf(&b, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"%g\"%s/><text x=\"%d\" "
                      "y=\"%d\">", lx, lx + 24, y, y, c->series[s].color, c->series[s].width,
                  c->series[s].dashed ? " stroke-dasharray=\"6 4\"" : "", lx + 30, y + 4);
        tb_xml_text(&b, c->series[s].label ? c->series[s].label : "");
        tb_printf(&b, "</text>\n");
    }
    tb_printf(&b, "</svg>\n");
    if (b.failed) {
        tb_free(&b);
        return NULL;
    }
    *len = b.len;
    return b.p;
}

int svg_chart_write(const SvgChart *c, const char *path, BittError *err) {
    size_t len;
    char *text = svg_chart_render(c, &len);
    if (!text) return bitt_fail(err, "%s: out of memory drawing the chart", path);
    int rc = file_write_buffer(path, text, len, err);
    free(text);
    return rc;
}
