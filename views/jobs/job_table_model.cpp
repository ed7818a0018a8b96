#include "views/jobs/job_table_model.h"

#include <QFileInfo>
#include <algorithm>

#include "views/jobs/job_queue.h"

namespace ptq::views {

namespace {
QString etaText(double s) {
  if (s < 0) return {};
  if (s < 60) return QStringLiteral("%1 s").arg(int(s + 0.5));
  if (s < 3600) return QStringLiteral("%1 min %2 s").arg(int(s) / 60).arg(int(s) % 60);
  return QStringLiteral("%1 h %2 min").arg(int(s) / 3600).arg((int(s) % 3600) / 60);
}
}  // namespace

JobTableModel::JobTableModel(JobQueue* queue, QObject* parent) : QAbstractTableModel(parent), queue_(queue) {
  connect(queue, &JobQueue::jobAboutToBeAdded, this, [this](int row) { beginInsertRows({}, row, row); });
  connect(queue, &JobQueue::jobAdded, this, [this](int) { endInsertRows(); });
  connect(queue, &JobQueue::jobAboutToBeRemoved, this, [this](int row) { beginRemoveRows({}, row, row); });
  connect(queue, &JobQueue::jobRemoved, this, [this](int) { endRemoveRows(); });
  connect(queue, &JobQueue::jobChanged, this, &JobTableModel::jobChanged);
}

void JobTableModel::jobChanged(int id) {
  const auto& jobs = queue_->jobs();
  for (size_t row = 0; row < jobs.size(); ++row)
    if (jobs[row].id == id) Q_EMIT dataChanged(index(int(row), 0), index(int(row), ColumnCount - 1));
}

void JobTableModel::refreshEta() {
  const auto& jobs = queue_->jobs();
  for (size_t row = 0; row < jobs.size(); ++row)
    if (jobs[row].status == JobStatus::Running) Q_EMIT dataChanged(index(int(row), Eta), index(int(row), Eta));
}

int JobTableModel::jobIdAt(int row) const { return row >= 0 && row < rowCount() ? queue_->jobs()[size_t(row)].id : -1; }

int JobTableModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(queue_->jobs().size()); }
int JobTableModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant JobTableModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= rowCount()) return {};
  const Job& j = queue_->jobs()[size_t(index.row())];
  if (role == FractionRole) return j.fraction;
  if (role == JobIdRole) return j.id;
  if (role == StatusRole) return int(j.status);
  if (role == Qt::ToolTipRole) {
    if (!j.errors.isEmpty()) return j.errors.join('\n');
    QString tip = j.title;
    for (const auto& spec : j.specs) tip += "\n" + QString::fromStdString(spec.run_id());
    return tip + "\n" + QFileInfo(j.resultsDir).absoluteFilePath();
  }
  if (role != Qt::DisplayRole) return {};
  switch (index.column()) {
    case Title: return j.title;
    case Device: return j.device;
    case Status: return j.statusText();
    case Progress:
      return j.status == JobStatus::Failed ? tr("failed at %1%").arg(int(j.fraction * 100)) : QStringLiteral("%1%").arg(int(j.fraction * 100));
    case Stage: {
      if (!j.active()) return {};
      QString s = j.specs.size() > 1 ? QStringLiteral("run %1/%2 · ").arg(j.run + 1).arg(j.specs.size()) : QString();
      s += j.stage;
      if (j.total > 0) s += QStringLiteral(" %1/%2").arg(j.step).arg(j.total);
      return s;
    }
    case Eta: {
      if (j.status != JobStatus::Running || j.etaSeconds < 0) return QString();
      const double left = j.etaSeconds - double(j.clock.elapsed() - j.etaStampMs) / 1000.0;
      // Past the estimate with no report since: say so instead of showing 0 s for minutes.
      return left >= 0.5 ? etaText(left) : tr("overdue by %1").arg(etaText(std::max(1.0, -left)));
    }
  }
  return {};
}

QVariant JobTableModel::headerData(int section, Qt::Orientation o, int role) const {
  if (o != Qt::Horizontal || role != Qt::DisplayRole) return QAbstractTableModel::headerData(section, o, role);
  static const char* names[ColumnCount] = {"job", "device", "status", "progress", "stage", "ETA"};
  return section >= 0 && section < ColumnCount ? tr(names[section]) : QVariant();
}

}  // namespace ptq::views
