#include "views/charts/figure_canvas.h"

#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>

namespace ptq::views {

FigureCanvas::FigureCanvas(PaintFn paint, QWidget* parent) : QWidget(parent), paint_(std::move(paint)) {
  setAttribute(Qt::WA_OpaquePaintEvent);
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

void FigureCanvas::setHover(HoverFn hover) {
  hover_ = std::move(hover);
  setMouseTracking(static_cast<bool>(hover_));
}

void FigureCanvas::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.setRenderHint(QPainter::Antialiasing);
  p.fillRect(rect(), Qt::white);
  p.setFont(font());
  paint_(p, QRectF(rect()));
}

void FigureCanvas::mouseMoveEvent(QMouseEvent* e) {
  if (!hover_) return;
  QString tip = hover_(e->position());
  if (tip.isEmpty())
    QToolTip::hideText();
  else
    QToolTip::showText(e->globalPosition().toPoint(), tip, this);
}

}  // namespace ptq::views
