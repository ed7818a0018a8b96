#include "views/analyses/calibration_study_view.h"

#include <QCheckBox>
#include <QFileInfo>
#include <QtCharts/QLineSeries>
#include <QtCharts/QScatterSeries>
#include <algorithm>
#include <cmath>

#include "views/analyses/run_description.h"
#include "views/charts/interactive_chart.h"
#include "views/charts/plot_axis.h"
#include "views/charts/point_labels.h"

namespace ptq::views {

namespace {

// The calibration set's name: the sweep's ("calib=NAME" label), else calibration.name, else its files' names.
QString calibrationName(const Record& r) {
  const QString label = text(r, "label");
  if (label.startsWith("calib=")) return label.mid(6);
  const QString name = text(r, "calibration/name");
  if (!name.isEmpty()) return name;
  QStringList files;
  for (const auto& f : field(r, "calibration/files"))
    if (f.is_string()) files << QFileInfo(QString::fromStdString(f.get<std::string>())).fileName();
  return files.join(" + ");
}

}  // namespace

LineFit fitLine(const std::vector<double>& x, const std::vector<double>& y) {
  LineFit f;
  const size_t n = x.size();
  if (n < 3 || y.size() != n) return f;
  double mx = 0, my = 0;
  for (size_t i = 0; i < n; ++i) mx += x[i], my += y[i];
  mx /= double(n);
  my /= double(n);
  double sxx = 0, syy = 0, sxy = 0;
  for (size_t i = 0; i < n; ++i) {
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
    sxy += (x[i] - mx) * (y[i] - my);
  }
  if (*std::max_element(x.begin(), x.end()) == *std::min_element(x.begin(), x.end())) return f;  // one distinct x
  f.slope = sxy / sxx;
  f.intercept = my - f.slope * mx;
  f.r = syy > 0 ? sxy / std::sqrt(sxx * syy) : NAN;
  f.valid = true;
  return f;
}

std::vector<CalibrationPoint> calibrationPoints(const std::vector<Record>& records, const QString& y) {
  std::vector<CalibrationPoint> out;
  for (size_t i = 0; i < records.size(); ++i) {
    const Record& r = records[i];
    const double kl = number(r, "analyses/token_kl/kl");
    const double v = y == "kl" ? number(r, "metrics/compare/kl_mean") : number(r, "metrics/ppl");
    if (!std::isfinite(kl) || !std::isfinite(v) || isBaseline(r)) continue;
    out.push_back({kl, v, methodName(r), calibrationName(r), int(i)});
  }
  return out;
}

CalibrationStudyView::CalibrationStudyView(QWidget* parent)
    : QtChartViewBase("calibration_study", tr("Calibration study"), parent) {
  quality_ = addCombo("quality", tr("y"), {tr("perplexity"), tr("KL to full precision")});
  quality_->setItemData(0, "ppl");
  quality_->setItemData(1, "kl");
  logX_ = addCheck("logX", tr("log token KL"), false);
  connect(chartView(), &InteractiveChart::recordClicked, this, [this](int i) {
    if (i >= 0 && i < int(records_.size())) Q_EMIT runClicked(text(records_[i], "run_id"));
  });
  refresh();
}

void CalibrationStudyView::setRecords(const std::vector<nlohmann::json>& records) {
  records_ = records;
  refresh();
}

void CalibrationStudyView::setQuality(const QString& y) { quality_->setCurrentIndex(quality_->findData(y)); }
void CalibrationStudyView::setLogX(bool on) { logX_->setChecked(on); }

QString CalibrationStudyView::yLabel() const {
  return quality_->currentData().toString() == "kl" ? tr("mean KL to full precision per token (nats)")
                                                    : tr("perplexity");
}

QString CalibrationStudyView::noDataMessage() const {
  if (points_.empty())
    return tr("no data: run quantized experiments with the analysis \"token_kl\" ticked and an eval text (%1), "
              "with several calibration sets (Sweep tab: open resources/calib-sweep.json)")
        .arg(quality_->currentData().toString() == "kl" ? tr("and \"compare\"") : tr("for the perplexity"));
  return {};
}

void CalibrationStudyView::rebuild() { points_ = calibrationPoints(records_, quality_->currentData().toString()); }

QStringList CalibrationStudyView::methods() const {
  QStringList m;
  for (const auto& p : points_)
    if (!m.contains(p.method)) m << p.method;
  return m;
}

LineFit CalibrationStudyView::fitOf(const QString& method) const {
  std::vector<double> x, y;
  const bool logX = logX_->isChecked();
  for (const auto& p : points_)
    if (p.method == method && (!logX || p.kl > 0)) x.push_back(logX ? std::log10(p.kl) : p.kl), y.push_back(p.y);
  return fitLine(x, y);
}

TextTable CalibrationStudyView::dataTable() const {
  TextTable t;
  if (points_.empty()) return t;
  t.headers << tr("run") << tr("method") << tr("calibration") << tr("token KL(test‖calib)") << yLabel();
  for (const auto& p : points_)
    t.rows.push_back({recordLabel(records_[p.record]), p.method, p.calibration, QString::number(p.kl, 'g', 9),
                      QString::number(p.y, 'g', 9)});
  return t;
}

QChart* CalibrationStudyView::buildChart(const ChartStyle& s) const {
  auto* c = new QChart;
  QString title = tr("%1 against the calibration set's token KL to the test text").arg(yLabel());
  title[0] = title[0].toUpper();
  styleChart(c, s, title);
  if (points_.empty()) return c;
  const bool logX = logX_->isChecked();
  std::vector<double> xs, ys;
  for (const auto& p : points_)
    if (!logX || p.kl > 0) xs.push_back(p.kl), ys.push_back(p.y);
  PlotAxis fx = PlotAxis::fit(xs, logX, false, 0.08), fy = PlotAxis::fit(ys, false, false, 0.1);
  QAbstractAxis* ax = makeValueAxis(s, tr("token-distribution KL(test ‖ calibration windows), nats"), fx.lo, fx.hi, logX);
  QAbstractAxis* ay = makeValueAxis(s, yLabel(), fy.lo, fy.hi, false);
  c->addAxis(ax, Qt::AlignBottom);
  c->addAxis(ay, Qt::AlignLeft);
  QStringList notes;
  std::vector<PointLabel> labels;  // the calibration set's name at each point
  const double radius = s.pt(2.6);
  for (const QString& m : methods()) {
    QScatterSeries* ser = makeMethodScatter(m, displayName(m), radius);
    QStringList tips;
    QVariantList ids;
    for (const auto& p : points_) {
      if (p.method != m || (logX && !(p.kl > 0))) continue;
      ser->append(toAxis(ax, p.kl), p.y);
      tips << tr("%1\ntoken KL: %2 nats\n%3: %4").arg(runDescription(records_[p.record]), formatNumber(p.kl, 5), yLabel(),
                                                    formatNumber(p.y, 6));
      ids << p.record;
      labels.push_back({{toAxis(ax, p.kl), p.y}, ser, p.calibration});
    }
    ser->setProperty(chart_prop::tips, tips);
    ser->setProperty(chart_prop::ids, ids);
    c->addSeries(ser);
    ser->attachAxis(ax);
    ser->attachAxis(ay);
    const LineFit f = fitOf(m);
    if (!f.valid) continue;
    auto* line = new QLineSeries;
    const QString key = tr("%1 fit").arg(m);
    line->setName(displayName(key));
    line->setProperty(chart_prop::key, key);
    QPen pen = s.seriesPen(ChartStyle::methodColor(m), 1.0);
    pen.setStyle(Qt::DashLine);
    line->setPen(pen);
    const double a = logX ? std::log10(fx.lo) : fx.lo, b = logX ? std::log10(fx.hi) : fx.hi;
    line->append(a, f.slope * a + f.intercept);
    line->append(b, f.slope * b + f.intercept);
    line->setProperty(chart_prop::passive, true);
    c->addSeries(line);
    line->attachAxis(ax);
    line->attachAxis(ay);
    notes << tr("%1: slope %2 per %3, r = %4").arg(displayName(m), formatNumber(f.slope, 3),
                                                    logX ? tr("decade") : tr("nat"), formatNumber(f.r, 3));
  }
  new PointLabelLayer(c, std::move(labels), s.font(0.75), radius);
  if (!notes.isEmpty()) new NotesLayer(c, notes, s.font(0.8));
  return c;
}

}  // namespace ptq::views
