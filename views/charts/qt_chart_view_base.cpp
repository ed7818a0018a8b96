#include "views/charts/qt_chart_view_base.h"

#include <QDialog>
#include <QDialogButtonBox>
#include <QDoubleValidator>
#include <QFormLayout>
#include <QInputDialog>
#include <QLineEdit>
#include <QVBoxLayout>
#include <QtCharts/QAbstractAxis>
#include <QtCharts/QAbstractBarSeries>
#include <QtCharts/QBarSet>
#include <QtCharts/QLogValueAxis>
#include <QtCharts/QValueAxis>

#include "views/charts/interactive_chart.h"

namespace ptq::views {
namespace {
// The first numeric (value or log) axis of an orientation, nullptr for a category axis.
QAbstractAxis* numericAxis(QChart* c, Qt::Orientation o) {
  for (QAbstractAxis* a : c->axes(o))
    if (a->type() == QAbstractAxis::AxisTypeValue || a->type() == QAbstractAxis::AxisTypeLogValue ||
        a->property(chart_prop::log).toBool())
      return a;
  return nullptr;
}

// The key a range is kept under: the axis title, and the kind of axis (a log range is log10).
QString rangeKey(QAbstractAxis* a) { return a->titleText() + (a->property(chart_prop::log).toBool() ? "#log10" : ""); }

// In the axis' own units (log10 on a chart_prop::log axis).
AxisRange rangeOf(QAbstractAxis* a) {
  if (auto* v = qobject_cast<QValueAxis*>(a)) return {v->min(), v->max()};
  if (auto* l = qobject_cast<QLogValueAxis*>(a)) return {l->min(), l->max()};
  return {};
}

QStringList keysOf(QChart* c) {
  QStringList keys;
  for (QAbstractSeries* s : c->series()) {
    if (s->property(chart_prop::passive).toBool()) continue;
    if (auto* bars = qobject_cast<QAbstractBarSeries*>(s))
      for (QBarSet* set : bars->barSets()) keys << seriesKey(set);
    else
      keys << seriesKey(s);
  }
  return keys;
}
}  // namespace

QtChartViewBase::QtChartViewBase(const QString& id, const QString& title, QWidget* parent)
    : ChartViewBase(id, title, parent) {
  canvas()->hide();
  chartView_ = new InteractiveChart(this);
  chartView_->setObjectName("chart");
  chartView_->setMinimumSize(240, 160);
  body()->addWidget(chartView_, 1);
  connect(this, &AnalysisView::figureChanged, this, &QtChartViewBase::showChart);
  connect(chartView_, &InteractiveChart::rangesChanged, this, &QtChartViewBase::rememberRanges);
  connect(chartView_, &InteractiveChart::resetRequested, this, &QtChartViewBase::resetZoom);
  connect(chartView_, &InteractiveChart::seriesToggled, this,
          [this](const QString& key, bool shown) {
            if (shown) hidden_.remove(key); else hidden_.insert(key);
          });
  connect(chartView_, &InteractiveChart::exportRequested, this, &QtChartViewBase::exportRequested);
  connect(chartView_, &InteractiveChart::axisRangesRequested, this, &QtChartViewBase::askAxisRanges);
  connect(chartView_, &InteractiveChart::renameRequested, this, &QtChartViewBase::askRename);
}

QChart* QtChartViewBase::qchart() const { return chartView_->chart(); }

ChartStyle QtChartViewBase::screenStyle() const { return ChartStyle(logicalDpiY(), font()); }

QChart* QtChartViewBase::makeChart(const ChartStyle& s) const {
  QChart* c = buildChart(s);
  for (const QString& key : hidden_) setSeriesShown(c, key, false);
  for (Qt::Orientation o : {Qt::Horizontal, Qt::Vertical}) {
    QAbstractAxis* a = numericAxis(c, o);
    if (!a) continue;
    AxisRange r = ranges_.value(rangeKey(a));
    if (r.set() && !(a->type() == QAbstractAxis::AxisTypeLogValue && r.lo <= 0)) a->setRange(r.lo, r.hi);
  }
  return c;
}

void QtChartViewBase::showChart() {
  if (!hasData()) {
    auto* empty = new QChart;
    styleChart(empty, screenStyle(), noDataMessage());
    chartView_->replaceChart(empty);
    return;
  }
  chartView_->replaceChart(makeChart(screenStyle()));
}

void QtChartViewBase::paintFigure(QPainter& p, const QRectF& target) {
  renderChart(makeChart(exportStyle(p)), exportSceneSize(p, target), p, target);
}

void QtChartViewBase::rememberRanges() {
  for (Qt::Orientation o : {Qt::Horizontal, Qt::Vertical})
    if (QAbstractAxis* a = numericAxis(qchart(), o)) ranges_[rangeKey(a)] = rangeOf(a);
}

void QtChartViewBase::resetZoom() {
  for (Qt::Orientation o : {Qt::Horizontal, Qt::Vertical})
    if (QAbstractAxis* a = numericAxis(qchart(), o)) ranges_.remove(rangeKey(a));
  showChart();
}

void QtChartViewBase::setAxisRange(Qt::Orientation o, double lo, double hi) {
  QAbstractAxis* a = numericAxis(qchart(), o);
  if (!a) return;
  AxisRange r{toAxis(a, lo), toAxis(a, hi)};
  if (r.set())
    ranges_[rangeKey(a)] = r;
  else
    ranges_.remove(rangeKey(a));
  showChart();
}

AxisRange QtChartViewBase::axisRange(Qt::Orientation o) const {
  QAbstractAxis* a = numericAxis(qchart(), o);
  if (!a) return {};
  AxisRange r = rangeOf(a);
  return {fromAxis(a, r.lo), fromAxis(a, r.hi)};
}

void QtChartViewBase::setSeriesName(const QString& key, const QString& name) {
  if (name.isEmpty() || name == key)
    names_.remove(key);
  else
    names_[key] = name;
  showChart();
}

QString QtChartViewBase::displayName(const QString& key) const { return names_.value(key, key); }

void QtChartViewBase::setSeriesHidden(const QString& key, bool hidden) {
  if (hidden) hidden_.insert(key); else hidden_.remove(key);
  setSeriesShown(qchart(), key, !hidden);
}

void QtChartViewBase::askAxisRanges() {
  QDialog d(this);
  d.setWindowTitle(tr("Axis ranges"));
  auto* form = new QFormLayout;
  QLineEdit* edits[4];
  const AxisRange x = axisRange(Qt::Horizontal), y = axisRange(Qt::Vertical);
  const double values[4] = {x.lo, x.hi, y.lo, y.hi};
  const QString labels[4] = {tr("x from"), tr("x to"), tr("y from"), tr("y to")};
  for (int i = 0; i < 4; ++i) {
    edits[i] = new QLineEdit(std::isfinite(values[i]) ? QString::number(values[i], 'g', 6) : QString(), &d);
    edits[i]->setValidator(new QDoubleValidator(edits[i]));
    edits[i]->setEnabled(std::isfinite(values[i]));
    form->addRow(labels[i], edits[i]);
  }
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, &d);
  connect(buttons, &QDialogButtonBox::accepted, &d, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, &d, &QDialog::reject);
  auto* layout = new QVBoxLayout(&d);
  layout->addLayout(form);
  layout->addWidget(buttons);
  if (d.exec() != QDialog::Accepted) return;
  if (edits[0]->isEnabled()) setAxisRange(Qt::Horizontal, edits[0]->text().toDouble(), edits[1]->text().toDouble());
  if (edits[2]->isEnabled()) setAxisRange(Qt::Vertical, edits[2]->text().toDouble(), edits[3]->text().toDouble());
}

void QtChartViewBase::askRename() {
  const QStringList keys = keysOf(qchart());
  if (keys.isEmpty()) return;
  bool ok = false;
  QString key = QInputDialog::getItem(this, tr("Rename series"), tr("Series"), keys, 0, false, &ok);
  if (!ok) return;
  QString name = QInputDialog::getText(this, tr("Rename series"), tr("Name shown for \"%1\"").arg(key), QLineEdit::Normal,
                                       displayName(key), &ok);
  if (ok) setSeriesName(key, name.trimmed());
}

}  // namespace ptq::views
