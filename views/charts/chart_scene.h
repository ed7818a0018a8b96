#pragma once
// Qt Charts plumbing shared by the chart views (issue 15): styling a QChart with the paper style
// (chart_style.h), value / log / category axes, the per-point data the interaction reads (tooltips,
// run indices, stable series keys kept as QObject properties on the series and bar sets), showing
// and hiding a series, and the one export path: the chart laid out at the figure's physical size
// in a QGraphicsScene and rendered onto any QPainter (QImage at a DPI, QSvgGenerator, QPdfWriter).
// No OpenGL series: they are not drawn into the scene.
#include <QColor>
#include <QList>
#include <QPointF>
#include <QRectF>
#include <QString>
#include <QStringList>
#include <QtCharts/QChart>
#include <cmath>
#include <functional>

#include "views/charts/chart_style.h"

class QPainter;
QT_BEGIN_NAMESPACE
class QAbstractAxis;
class QAbstractSeries;
class QBarSet;
class QScatterSeries;
QT_END_NAMESPACE

namespace ptq::views {

// Properties the interaction reads (set by the views when they build a chart).
namespace chart_prop {
inline constexpr char key[] = "ptqKey";    // QString: the series' name before any rename
inline constexpr char tips[] = "ptqTips";  // QStringList: one tooltip per point / bar
inline constexpr char ids[] = "ptqIds";    // QVariantList of int: the record behind each point
inline constexpr char passive[] = "ptqPassive";  // bool: no tooltip, no legend toggle (highlight rings)
inline constexpr char log[] = "ptqLog";          // bool on an axis: values are log10 of the data
}  // namespace chart_prop

// A white, flat chart (no theme shadow, no animation) with the style's fonts for title and legend.
void styleChart(QChart* chart, const ChartStyle& s, const QString& title);
// Styled axes; `title` as the axis label. A log axis of a scatter or line chart is a QCategoryAxis
// over log10 of the values (chart_prop::log set): its ticks are PlotAxis's (1-2-5 within a decade,
// so a perplexity range of 96-130 is labelled 100, 110, 120, which QLogValueAxis, labelling only
// powers of its base, cannot), relabelled whenever zooming or panning changes the range. Series
// on such an axis append toAxis(axis, value). Bars on a log axis (nativeLog) use QLogValueAxis.
QAbstractAxis* makeValueAxis(const ChartStyle& s, const QString& title, double lo, double hi, bool log, bool nativeLog = false);
bool isLogAxis(const QAbstractAxis* axis);      // either kind of log axis
double toAxis(const QAbstractAxis* axis, double value);    // log10 on a chart_prop::log axis
double fromAxis(const QAbstractAxis* axis, double value);  // its inverse
QAbstractAxis* makeCategoryAxis(const ChartStyle& s, const QString& title, const QStringList& categories);
// A scatter series of one method's runs: named `name`, keyed `method` (chart_prop::key), in the
// method's colour (ChartStyle::methodColor), markers of radius `radius` (scene units).
QScatterSeries* makeMethodScatter(const QString& method, const QString& name, double radius);

// Hides or shows a series (or, in a bar series, one bar set: made transparent, so the other bars
// keep their places) and greys its legend entry; the legend entry itself stays, to click again.
void setSeriesShown(QChart* chart, const QString& key, bool shown);
bool seriesShown(QChart* chart, const QString& key);
// The stable key of a series / bar set (its chart_prop::key, else its name).
QString seriesKey(const QObject* seriesOrSet);

// Lays `chart` out at `sceneSize` (scene units) in a scene of its own and renders it onto
// `target` of `p`; `plotArea` (scene units), when given, fixes the plot rectangle (the depth bars
// lined up under the heatmap). The chart is taken by the scene and deleted afterwards.
void renderChart(QChart* chart, const QSizeF& sceneSize, QPainter& p, const QRectF& target, const QRectF& plotArea = {});
// The legend in one row above the plot while its entries fit `width`, else in a column at the right.
void fitLegend(QChart* chart, double width);
// The scene size and the style for exporting onto `target` of `p`: 2 scene units per point, so
// fonts and line widths keep their printed size at any DPI and on every device.
QSizeF exportSceneSize(const QPainter& p, const QRectF& target);
ChartStyle exportStyle(const QPainter& p);

// A range an axis was set to (by zooming, panning or by hand); NaN = automatic.
struct AxisRange {
  double lo = NAN, hi = NAN;
  bool set() const { return std::isfinite(lo) && std::isfinite(hi) && lo < hi; }
};

}  // namespace ptq::views
