#include "views/export/export_dialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include "views/analyses/analysis_view.h"
#include "views/records/settings.h"

namespace ptq::views {

ExportDialog::ExportDialog(AnalysisView& view, Settings& settings, QWidget* parent)
    : QDialog(parent), view_(view), settings_(settings) {
  setWindowTitle(tr("Export figure: %1").arg(view.title()));
  file_ = new QLineEdit(this);
  file_->setObjectName("fileName");
  const QString dir = settings.get(setting::lastExportDir);
  file_->setText(QDir(dir.isEmpty() ? QDir::homePath() : dir).filePath(view.viewId()));
  auto* browse = new QPushButton(tr("Browse…"), this);
  format_ = new QComboBox(this);
  format_->setObjectName("format");
  for (const QString& f : figureFormats()) format_->addItem(f.toUpper(), f);
  format_->setCurrentIndex(std::max(0, format_->findData(settings.get(setting::lastExportFormat))));
  preset_ = new QComboBox(this);
  preset_->setObjectName("preset");
  preset_->addItem(tr("single column (3.5 in, 8 pt)"), "single-column");
  preset_->addItem(tr("double column (7 in, 9 pt)"), "double-column");
  preset_->setCurrentIndex(std::max(0, preset_->findData(settings.get(setting::lastExportPreset))));
  dpi_ = new QSpinBox(this);
  dpi_->setObjectName("dpi");
  dpi_->setRange(72, 2400);
  dpi_->setSingleStep(50);
  dpi_->setValue(settings.get(setting::lastExportDpi));
  error_ = new QLabel(this);
  error_->setObjectName("error");
  error_->setWordWrap(true);
  error_->setStyleSheet("color: #b00000");
  error_->hide();
  auto* fileRow = new QHBoxLayout;
  fileRow->addWidget(file_, 1);
  fileRow->addWidget(browse);
  auto* form = new QFormLayout;
  form->addRow(tr("File"), fileRow);
  form->addRow(tr("Format"), format_);
  form->addRow(tr("Size"), preset_);
  form->addRow(tr("Resolution (PNG), DPI"), dpi_);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Save | QDialogButtonBox::Cancel, this);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addWidget(error_);
  layout->addWidget(buttons);
  connect(format_, &QComboBox::currentIndexChanged, this, &ExportDialog::updateDpi);
  connect(buttons, &QDialogButtonBox::accepted, this, &ExportDialog::exportNow);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(browse, &QPushButton::clicked, this, [this] {
    QString p = QFileDialog::getSaveFileName(this, windowTitle(), path(), tr("Figures (*.png *.svg *.pdf)"));
    if (p.isEmpty()) return;
    file_->setText(p);
    int i = format_->findData(QFileInfo(p).suffix().toLower());
    if (i >= 0) format_->setCurrentIndex(i);
  });
  updateDpi();
}

void ExportDialog::updateDpi() { dpi_->setEnabled(format_->currentData().toString() == "png"); }

QString ExportDialog::path() const {
  QString p = file_->text().trimmed();
  const QString suffix = format_->currentData().toString();
  QFileInfo info(p);
  if (figureFormats().contains(info.suffix().toLower())) p.chop(info.suffix().size() + 1);
  return p + "." + suffix;
}

FigureSize ExportDialog::size() const {
  FigureSize s = preset_->currentData().toString() == "double-column" ? FigureSize::doubleColumn() : FigureSize::singleColumn();
  s.dpi = dpi_->value();
  return s;
}

QString ExportDialog::error() const { return error_->isHidden() ? QString() : error_->text(); }

bool ExportDialog::exportNow() {
  QString message;
  if (file_->text().trimmed().isEmpty()) {
    message = tr("no file name given");
  } else if (exportFigure(view_, path(), size(), &message)) {
    settings_.set(setting::lastExportDir, QFileInfo(path()).absolutePath());
    settings_.set(setting::lastExportFormat, format_->currentData().toString());
    settings_.set(setting::lastExportPreset, preset_->currentData().toString());
    settings_.set(setting::lastExportDpi, dpi_->value());
    error_->hide();
    accept();
    return true;
  }
  error_->setText(message);
  error_->show();
  return false;
}

}  // namespace ptq::views
