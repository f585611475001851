/* svg_chart.h: line charts as SVG files, drawn by this code (no plotting
 * library): the training curves (RUN/loss.svg) and the long-context
 * measurements of `bitt eval` (loss by position, recall by gap). Axes with
 * "nice" ticks, a linear or logarithmic x axis, one polyline a series,
 * optional markers, a legend. Points whose x or y is not finite are skipped. */
#ifndef BITT_SVG_CHART_H
#define BITT_SVG_CHART_H

#include <stddef.h>

#include "error.h"

typedef struct SvgSeries {
    const char *label;        /* legend text */
    const char *color;        /* "#1f5fbf" */
    double width;             /* stroke width */
    int markers;              /* 1: a dot at every point */
    int dashed;
    const double *x, *y;
    size_t n;
} SvgSeries;

typedef struct SvgChart {
    const char *title, *x_label, *y_label;
    int log_x;                /* 1: logarithmic x axis (x > 0) */
    const SvgSeries *series;
    int n_series;
} SvgChart;

/* The chart as SVG text (malloc'd, NUL-terminated), or NULL when out of memory. */
char *svg_chart_render(const SvgChart *c, size_t *len);
/* Renders and writes the chart to path atomically. */
int svg_chart_write(const SvgChart *c, const char *path, BittError *err);

#endif
