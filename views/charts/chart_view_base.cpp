#include "views/charts/chart_view_base.h"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPainter>
#include <QVBoxLayout>

#include "views/charts/plot_frame.h"

namespace ptq::views {

ChartViewBase::ChartViewBase(const QString& id, const QString& title, QWidget* parent)
    : AnalysisView(parent), id_(id), title_(title) {
  setObjectName(id);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  controls_ = new QHBoxLayout;
  layout->addLayout(controls_);
  body_ = new QVBoxLayout;
  layout->addLayout(body_, 1);
  canvas_ = new FigureCanvas([this](QPainter& p, const QRectF& r) { paintCanvas(p, r); }, this);
  canvas_->setObjectName("canvas");
  body_->addWidget(canvas_, 1);
  controls_->addStretch(1);
}

void ChartViewBase::exportPaint(QPainter& p, const QRectF& target) {
  QString message = noDataMessage();
  if (!message.isEmpty()) {
    paintMessage(p, target, message);
    return;
  }
  p.save();
  p.setRenderHint(QPainter::Antialiasing);
  p.fillRect(target, Qt::white);
  paintFigure(p, target);
  p.restore();
}

QComboBox* ChartViewBase::addCombo(const QString& objectName, const QString& label, const QStringList& items) {
  auto* combo = new QComboBox(this);
  combo->setObjectName(objectName);
  combo->addItems(items);
  combo->setSizeAdjustPolicy(QComboBox::AdjustToContents);
  if (!label.isEmpty()) controls_->insertWidget(controls_->count() - 1, new QLabel(label, this));
  controls_->insertWidget(controls_->count() - 1, combo);
  connect(combo, &QComboBox::currentIndexChanged, this, [this] { refresh(); });
  return combo;
}

QCheckBox* ChartViewBase::addCheck(const QString& objectName, const QString& text, bool on) {
  auto* box = new QCheckBox(text, this);
  box->setObjectName(objectName);
  box->setChecked(on);
  controls_->insertWidget(controls_->count() - 1, box);
  connect(box, &QCheckBox::toggled, this, [this] { refresh(); });
  return box;
}

void ChartViewBase::refill(QComboBox* combo, const QStringList& texts, const QStringList& data, bool hideSingle) {
  QSignalBlocker block(combo);
  QString currentText = combo->currentText(), currentData = combo->currentData().toString();
  combo->clear();
  for (int i = 0; i < texts.size(); ++i) combo->addItem(texts[i], i < data.size() ? QVariant(data[i]) : QVariant());
  int keep = data.isEmpty() ? combo->findText(currentText) : combo->findData(currentData);
  combo->setCurrentIndex(keep >= 0 ? keep : (texts.isEmpty() ? -1 : 0));
  if (hideSingle) combo->setHidden(texts.size() < 2);
}

void ChartViewBase::fillPicker(QComboBox* picker, const std::vector<Record>& records) {
  QStringList labels;
  for (const auto& r : records) labels << recordLabel(r);
  refill(picker, labels, {}, true);
}

void ChartViewBase::refresh() {
  if (refreshing_) return;
  refreshing_ = true;
  rebuild();
  refreshing_ = false;
  canvas_->update();
  Q_EMIT figureChanged();
}

}  // namespace ptq::views
