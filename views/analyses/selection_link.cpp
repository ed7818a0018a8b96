#include "views/analyses/selection_link.h"

#include <QItemSelectionModel>
#include <QTableView>

#include "views/analyses/tradeoff_view.h"
#include "views/panels/results_browser.h"
#include "views/records/record_fields.h"

namespace ptq::views {

void linkSelection(TradeoffView* tradeoff, ResultsBrowser* results) {
  QObject::connect(tradeoff, &TradeoffView::runClicked, results, [results](const QString& runId) {
    results->table()->selectionModel()->clearSelection();
    results->selectRunId(runId);
    const QModelIndexList rows = results->table()->selectionModel()->selectedRows();
    if (!rows.isEmpty()) results->table()->scrollTo(rows.first());
  });
  QObject::connect(results, &ResultsBrowser::selectionChanged, tradeoff, [tradeoff, results] {
    QStringList ids;
    for (const auto& r : results->selectedRecords()) ids << text(r, "run_id");
    tradeoff->highlightRuns(ids);
  });
}

}  // namespace ptq::views
