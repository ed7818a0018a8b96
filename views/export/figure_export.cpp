#include "views/export/figure_export.h"

#include <QBuffer>
#include <QFileInfo>
#include <QImage>
#include <QPageLayout>
#include <QPageSize>
#include <QPainter>
#include <QPdfWriter>
#include <QSvgGenerator>
#include <cmath>

#include "core/runtime/errors.h"
#include "core/records/json_util.h"
#include "views/analyses/analysis_view.h"

namespace ptq::views {
namespace {
bool fail(QString* error, const QString& message) {
  if (error) *error = message;
  return false;
}

// The view paints at the device's resolution with the figure's base font (in points).
void paintFigure(AnalysisView& view, QPainter& p, const QRectF& target, const FigureSize& size) {
  p.setRenderHint(QPainter::Antialiasing);
  p.setRenderHint(QPainter::TextAntialiasing);
  QFont f = view.font();
  f.setPointSizeF(size.font_pt);
  p.setFont(f);
  p.fillRect(target, Qt::white);
  view.exportPaint(p, target);
}

QByteArray renderPng(AnalysisView& view, const FigureSize& size) {
  QImage img(size.widthPx(), size.heightPx(), QImage::Format_ARGB32_Premultiplied);
  int dpm = static_cast<int>(std::lround(size.dpi / 0.0254));
  img.setDotsPerMeterX(dpm);
  img.setDotsPerMeterY(dpm);
  img.fill(Qt::white);
  {
    QPainter p(&img);
    paintFigure(view, p, QRectF(0, 0, img.width(), img.height()), size);
  }
  QByteArray bytes;
  QBuffer buf(&bytes);
  buf.open(QIODevice::WriteOnly);
  img.save(&buf, "PNG");
  return bytes;
}

QByteArray renderSvg(AnalysisView& view, const FigureSize& size) {
  QByteArray bytes;
  QBuffer buf(&bytes);
  buf.open(QIODevice::WriteOnly);
  QSvgGenerator gen;
  gen.setOutputDevice(&buf);
  gen.setResolution(size.dpi);
  gen.setSize(QSize(size.widthPx(), size.heightPx()));
  gen.setViewBox(QRect(0, 0, size.widthPx(), size.heightPx()));
  gen.setTitle(view.title());
  gen.setDescription(QStringLiteral("PTQ Workbench: %1").arg(view.viewId()));
  {
    QPainter p(&gen);
    paintFigure(view, p, QRectF(0, 0, size.widthPx(), size.heightPx()), size);
  }
  return bytes;
}

QByteArray renderPdf(AnalysisView& view, const FigureSize& size) {
  QByteArray bytes;
  QBuffer buf(&bytes);
  buf.open(QIODevice::WriteOnly);
  {
    QPdfWriter pdf(&buf);
    pdf.setTitle(view.title());
    pdf.setCreator(QStringLiteral("PTQ Workbench"));
    pdf.setResolution(size.dpi);
    pdf.setPageLayout(QPageLayout(QPageSize(QSizeF(size.width_mm, size.height_mm), QPageSize::Millimeter),
                                  QPageLayout::Portrait, QMarginsF(0, 0, 0, 0)));
    QPainter p(&pdf);
    QRect page = pdf.pageLayout().fullRectPixels(pdf.resolution());
    paintFigure(view, p, QRectF(0, 0, page.width(), page.height()), size);
  }
  return bytes;
}
}  // namespace

FigureSize FigureSize::singleColumn() { return {88.9, 66.675, 300, 8.0}; }
FigureSize FigureSize::doubleColumn() { return {177.8, 88.9, 300, 9.0}; }
int FigureSize::widthPx() const { return static_cast<int>(std::lround(width_mm / 25.4 * dpi)); }
int FigureSize::heightPx() const { return static_cast<int>(std::lround(height_mm / 25.4 * dpi)); }

const QStringList& figureFormats() {
  static const QStringList f = {"png", "svg", "pdf"};
  return f;
}

bool exportFigure(AnalysisView& view, const QString& path, const FigureSize& size, QString* error) {
  QString suffix = QFileInfo(path).suffix().toLower();
  if (!figureFormats().contains(suffix))
    return fail(error, QStringLiteral("cannot export figure to '%1': unknown format '%2' (use .png, .svg or .pdf)").arg(path, suffix));
  if (!(size.width_mm > 0 && size.height_mm > 0 && size.dpi > 0 && size.font_pt > 0) || size.widthPx() > 20000 ||
      size.heightPx() > 20000)
    return fail(error, QStringLiteral("cannot export figure to '%1': bad size %2 x %3 mm at %4 dpi, font %5 pt")
                           .arg(path).arg(size.width_mm).arg(size.height_mm).arg(size.dpi).arg(size.font_pt));
  if (!view.hasData())
    return fail(error, QStringLiteral("cannot export figure '%1': %2").arg(view.viewId(), view.noDataMessage()));
  QFileInfo dir(QFileInfo(path).absolutePath());
  if (!dir.isDir()) return fail(error, QStringLiteral("cannot export figure to '%1': directory '%2' does not exist").arg(path, dir.filePath()));
  QByteArray bytes = suffix == "png" ? renderPng(view, size) : suffix == "svg" ? renderSvg(view, size) : renderPdf(view, size);
  if (bytes.isEmpty()) return fail(error, QStringLiteral("cannot export figure to '%1': rendering produced nothing").arg(path));
  try {
    ptq::write_file_atomic(path.toStdString(), bytes.toStdString());
  } catch (const ptq::Error& e) {
    return fail(error, QString::fromStdString(e.what()));
  }
  return true;
}

}  // namespace ptq::views
