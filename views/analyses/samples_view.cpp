#include "views/analyses/samples_view.h"

#include <QFileDialog>
#include <QFontMetricsF>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QMessageBox>
#include <QPainter>
#include <QPushButton>
#include <QSplitter>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "views/charts/chart_style.h"
#include "views/charts/figure_canvas.h"

namespace ptq::views {

QColor sampleShade(double p) {
  if (std::isnan(p)) return Qt::transparent;
  const double t = std::clamp(1.0 - p, 0.0, 1.0);
  return QColor(255, 140, 0, int(std::lround(210 * t)));
}

SamplesView::SamplesView(QWidget* parent) : AnalysisView(parent) {
  setObjectName("samples");
  prompts_ = new QListWidget;
  prompts_->setObjectName("prompts");
  prompts_->setTextElideMode(Qt::ElideLeft);  // a prompt's end leads into the continuations
  prompts_->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  runs_ = new QListWidget;
  runs_->setObjectName("runs");
  canvas_ = new FigureCanvas([this](QPainter& p, const QRectF& r) { exportPaint(p, r); });
  canvas_->setHover([this](const QPointF& pos) { return hoverText(pos); });
  auto* left = new QWidget;
  auto* ll = new QVBoxLayout(left);
  ll->setContentsMargins(0, 0, 0, 0);
  ll->addWidget(new QLabel(tr("Prompts")));
  ll->addWidget(prompts_, 3);
  ll->addWidget(new QLabel(tr("Runs")));
  ll->addWidget(runs_, 1);
  auto* right = new QWidget;
  auto* rl = new QVBoxLayout(right);
  rl->setContentsMargins(0, 0, 0, 0);
  rl->addWidget(canvas_, 1);
  auto* buttons = new QHBoxLayout;
  buttons->addStretch();
  for (const QString& suffix : {QStringLiteral("csv"), QStringLiteral("tex")}) {
    auto* b = new QPushButton(suffix == "csv" ? tr("Export CSV…") : tr("Export LaTeX…"));
    b->setObjectName("export_" + suffix);
    connect(b, &QPushButton::clicked, this, [this, suffix] { exportDialog(suffix); });
    buttons->addWidget(b);
  }
  rl->addLayout(buttons);
  auto* split = new QSplitter(Qt::Horizontal);
  split->addWidget(left);
  split->addWidget(right);
  split->setStretchFactor(1, 3);
  split->setSizes({260, 700});
  auto* top = new QVBoxLayout(this);
  top->addWidget(split);
  connect(prompts_, &QListWidget::currentRowChanged, this, [this] { refresh(); });
  connect(runs_, &QListWidget::itemChanged, this, [this] { refresh(); });
}

void SamplesView::setRecords(const std::vector<nlohmann::json>& records) {
  const int keep = prompts_->currentRow();
  data_ = collectSamples(records);
  {
    QSignalBlocker b1(prompts_), b2(runs_);
    prompts_->clear();
    for (const auto& p : data_.prompts) {
      auto* item = new QListWidgetItem(p.prompt.simplified());
      item->setToolTip(p.prompt);
      prompts_->addItem(item);
    }
    runs_->clear();
    for (const auto& r : data_.runs) {
      auto* item = new QListWidgetItem(r);
      item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
      item->setCheckState(Qt::Checked);
      runs_->addItem(item);
    }
    if (!data_.prompts.empty()) prompts_->setCurrentRow(keep >= 0 && keep < prompts_->count() ? keep : 0);
  }
  refresh();
}

QString SamplesView::noDataMessage() const {
  if (data_.empty())
    return tr("no data: no record has samples (load a sweep spec with \"samples\" prompts in the Sweep tab and "
              "enqueue it; its runs record fp and quantized continuations)");
  return {};
}

void SamplesView::selectPrompt(int index) { prompts_->setCurrentRow(index); }
int SamplesView::currentPrompt() const { return prompts_->currentRow(); }
void SamplesView::setRunShown(int run, bool shown) {
  if (run >= 0 && run < runs_->count()) runs_->item(run)->setCheckState(shown ? Qt::Checked : Qt::Unchecked);
}

std::vector<int> SamplesView::shownRuns() const {
  std::vector<int> out;
  for (int i = 0; i < runs_->count(); ++i)
    if (runs_->item(i)->checkState() == Qt::Checked) out.push_back(i);
  return out;
}

void SamplesView::refresh() {
  canvas_->update();
  Q_EMIT figureChanged();
}

void SamplesView::exportPaint(QPainter& p, const QRectF& target) {
  p.save();
  p.fillRect(target, Qt::white);
  if (!hasData()) {
    p.setPen(QColor(90, 90, 90));
    p.drawText(target, Qt::AlignCenter | Qt::TextWordWrap, noDataMessage());
  } else {
    paintPrompt(p, target, true);
  }
  p.restore();
}

QString SamplesView::hoverText(const QPointF& pos) const {
  for (const auto& c : layout(QRectF(canvas_->rect())))
    if (c.rect.contains(pos)) {
      QString t = c.text;
      t.replace('\n', QStringLiteral("\\n"));
      QString s = tr("token %1: \"%2\"").arg(c.token).arg(t);
      if (!std::isnan(c.prob)) s += tr("\np(chosen) = %1").arg(c.prob, 0, 'f', 3);
      if (c.diverges) s += tr("\nfirst token that differs from full precision");
      return s;
    }
  return {};
}

void SamplesView::exportDialog(const QString& suffix) {
  const QString filter = suffix == "csv" ? tr("CSV (*.csv)") : tr("LaTeX (*.tex)");
  QString path = QFileDialog::getSaveFileName(this, tr("Export samples"), "samples." + suffix, filter);
  if (path.isEmpty()) return;
  if (!path.endsWith("." + suffix)) path += "." + suffix;
  QString error;
  if (!exportTo(path, &error)) QMessageBox::warning(this, tr("Export failed"), error);
}

}  // namespace ptq::views
