#pragma once
// The on-screen surface of a chart: paints through a callback (the view's own exportPaint, so
// the screen shows exactly what is exported) and, when given a hover callback, shows its text
// as a tooltip while the mouse moves.
#include <QWidget>
#include <functional>

class QPainter;

namespace ptq::views {

class FigureCanvas : public QWidget {
  Q_OBJECT
 public:
  using PaintFn = std::function<void(QPainter&, const QRectF&)>;
  using HoverFn = std::function<QString(const QPointF&)>;
  explicit FigureCanvas(PaintFn paint, QWidget* parent = nullptr);
  void setHover(HoverFn hover);
  QSize sizeHint() const override { return {640, 420}; }
  QSize minimumSizeHint() const override { return {240, 160}; }

 protected:
  void paintEvent(QPaintEvent*) override;
  void mouseMoveEvent(QMouseEvent* e) override;

 private:
  PaintFn paint_;
  HoverFn hover_;
};

}  // namespace ptq::views
