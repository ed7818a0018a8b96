#pragma once
// The on-screen surface of a Qt Charts view (issue 15): hover shows the exact value and the run
// (the series' chart_prop::tips); a left drag draws a rubber band and zooms to it, the wheel zooms
// around the cursor, a middle or Shift+left drag pans, a double click or Home resets; clicking a
// legend entry hides or shows its series; clicking a point emits the record behind it; the context
// menu copies the figure as an image, exports it, resets, sets the axis ranges and renames series.
#include <QPoint>
#include <QtCharts/QChartView>

QT_BEGIN_NAMESPACE
class QRubberBand;
QT_END_NAMESPACE

namespace ptq::views {

class InteractiveChart : public QChartView {
  Q_OBJECT
 public:
  explicit InteractiveChart(QWidget* parent = nullptr);

  // Replaces the chart shown (the old one is deleted) and wires its legend markers.
  void replaceChart(QChart* chart);
  // The tooltip for a position in viewport coordinates: the nearest point within a few pixels or
  // the bar under it; empty when there is none.
  QString tooltipAt(const QPointF& viewportPos) const;
  // The record index (chart_prop::ids) of the point under viewportPos, -1 when none.
  int recordAt(const QPointF& viewportPos) const;
  // Where a point of a series is on screen (viewport coordinates), for tests and tooltips.
  QPointF viewportPosition(const QString& seriesKey, int index) const;
  // Zoom by `factor` (> 1 in) around a viewport position, as the wheel does.
  void zoomAround(const QPointF& viewportPos, double factor);

 Q_SIGNALS:
  void recordClicked(int record);
  void seriesToggled(const QString& key, bool shown);
  void rangesChanged();        // zoomed or panned: read the axes' ranges
  void resetRequested();       // back to the automatic ranges
  void exportRequested();      // "Export figure…" from the context menu
  void axisRangesRequested();  // "Axis ranges…"
  void renameRequested();      // "Rename series…"

 protected:
  void mousePressEvent(QMouseEvent* e) override;
  void mouseMoveEvent(QMouseEvent* e) override;
  void mouseReleaseEvent(QMouseEvent* e) override;
  void mouseDoubleClickEvent(QMouseEvent* e) override;
  void wheelEvent(QWheelEvent* e) override;
  void keyPressEvent(QKeyEvent* e) override;
  void contextMenuEvent(QContextMenuEvent* e) override;
  void resizeEvent(QResizeEvent* e) override;

 private:
  void wireLegend();
  QString barTooltipAt(const QPointF& scenePos) const;
  QRubberBand* band_;
  QPoint pressPos_, lastPan_;
  bool panning_ = false, banding_ = false;
};

}  // namespace ptq::views
