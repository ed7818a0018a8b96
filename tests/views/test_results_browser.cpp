// Qt Test: the results model (columns, Δppl against the fp record, sort, text and method filters)
// and the results browser over a directory (records written by another process appear; foreign
// files are reported and skipped).
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLineEdit>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>

#include "core/records/result_store.h"
#include "views/analyses/comparison_table.h"
#include "views/panels/results_browser.h"
#include "views/records/results_model.h"

using nlohmann::json;
using ptq::views::ResultsFilter;
using ptq::views::ResultsModel;

namespace {

json record(const std::string& id, const std::string& model, const std::string& method, int bits, double ppl) {
  json r = {{"schema", ptq::kResultSchemaName}, {"schema_version", ptq::kResultSchemaVersion}, {"run_id", id},
            {"status", "complete"}, {"created_at", "2026-11-23T10:00:0" + std::to_string(bits) + "Z"},
            {"method", method}, {"provenance", {{"model", {{"name", model}}}, {"device", "cpu"}}},
            {"metrics", {{"ppl", ppl}, {"eval", {{"text", "/t/austen-test.txt"}, {"seqlen", 128}}},
                         {"seconds", {{"total", 2.5 * bits}}}}}};
  if (method != "fp") {
    r["quant"] = {{"bits", bits}, {"group", 128}, {"format", "int"}, {"sym", false}};
    r["calibration"] = {{"files", {"/t/austen-valid.txt"}}, {"nsamples", 16}, {"seqlen", 128}};
    r["metrics"]["size"] = {{"total_bytes", 250000.0 * bits}, {"bits_per_weight", bits + 0.5}};
    r["metrics"]["compare"] = {{"kl_mean", 0.01 * (9 - bits)}, {"top1_agreement", 0.1 * bits}};
  } else {
    r["metrics"]["size"] = {{"total_bytes", 3680000.0}, {"bits_per_weight", 16.0}};
  }
  return r;
}

// fp, rtn w4, gptq w3 of austen-tiny; rtn w4 of austen-small (no fp record: no Δppl).
std::vector<ResultsModel::Entry> fourRecords() {
  json rtn = record("tiny-rtn-w4", "austen-tiny", "rtn", 4, 100.0);
  rtn["metrics"]["tasks"] = {{"lambada", {{"acc", 0.4}, {"n", 50}}}, {"piqa", {{"acc", 0.6}, {"n", 20}}}};
  return {{"/r/a.json", record("tiny-fp", "austen-tiny", "fp", 16, 96.49)},
          {"/r/b.json", rtn},
          {"/r/c.json", record("tiny-gptq-w3", "austen-tiny", "gptq", 3, 105.25)},
          {"/r/d.json", record("small-rtn-w4", "austen-small", "rtn", 4, 80.0)}};
}

QStringList column(const QAbstractItemModel& m, int col) {
  QStringList out;
  for (int r = 0; r < m.rowCount(); ++r) out << m.index(r, col).data().toString();
  return out;
}

}  // namespace

class TestResultsBrowser : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void deltaPplAgainstTheFpRecordOfTheSameModel() {
    ResultsModel m;
    m.setRecords(fourRecords());
    QCOMPARE(m.rowCount(), 4);
    QVERIFY(std::abs(m.deltaPpl(0) - 0.0) < 1e-12);
    QVERIFY(std::abs(m.deltaPpl(1) - 3.51) < 1e-9);
    QVERIFY(std::abs(m.deltaPpl(2) - 8.76) < 1e-9);
    QVERIFY(std::isnan(m.deltaPpl(3)));  // austen-small has no fp record
    QCOMPARE(m.index(1, ResultsModel::DeltaPpl).data().toString(), QString("+3.51"));
    QCOMPARE(m.index(3, ResultsModel::DeltaPpl).data().toString(), QString());
    QCOMPARE(m.index(1, ResultsModel::TaskAcc).data().toString(), QString("50.0"));  // mean of 40 % and 60 %
    QCOMPARE(m.index(1, ResultsModel::SizeMB).data().toString(), QString("1.000"));
    QCOMPARE(m.index(2, ResultsModel::Top1).data().toString(), QString("30.0"));
    QCOMPARE(m.index(1, ResultsModel::Calib).data().toString(), QString("austen-valid 16×128"));
    QCOMPARE(m.index(1, ResultsModel::Format).data().toString(), QString("int asym"));
    // A new fp record for austen-small gives its rtn row a Δppl.
    m.upsert("/r/e.json", record("small-fp", "austen-small", "fp", 16, 77.08));
    QCOMPARE(m.rowCount(), 5);
    QVERIFY(std::abs(m.deltaPpl(3) - 2.92) < 1e-9);
    // Same run id again replaces the row.
    m.upsert("/r/e2.json", record("small-fp", "austen-small", "fp", 16, 78.0));
    QCOMPARE(m.rowCount(), 5);
    QVERIFY(std::abs(m.deltaPpl(3) - 2.0) < 1e-9);
  }

  // The results browser and the comparison table give every record the same Δppl, the fp
  // baseline's own included (0: it is its own reference; the table used to leave it blank).
  void bothRecordTablesAgreeOnDeltaPpl() {
    const auto entries = fourRecords();
    ResultsModel m;
    m.setRecords(entries);
    std::vector<json> records;
    for (const auto& e : entries) records.push_back(e.record);
    ptq::views::RunTableModel table;
    table.setRecords(records);
    for (int row = 0; row < m.rowCount(); ++row) {
      const double a = m.deltaPpl(row), b = table.value(row, "dppl");
      QVERIFY2(std::isnan(a) ? std::isnan(b) : a == b, qPrintable(QString("row %1: %2 vs %3").arg(row).arg(a).arg(b)));
    }
    QCOMPARE(table.value(0, "dppl"), 0.0);  // the fp record
  }

  void sort_data() {
    QTest::addColumn<int>("col");
    QTest::addColumn<int>("order");
    QTest::addColumn<QStringList>("runIds");
    QTest::newRow("ppl ascending") << int(ResultsModel::Ppl) << int(Qt::AscendingOrder)
                                   << QStringList{"small-rtn-w4", "tiny-fp", "tiny-rtn-w4", "tiny-gptq-w3"};
    QTest::newRow("ppl descending") << int(ResultsModel::Ppl) << int(Qt::DescendingOrder)
                                    << QStringList{"tiny-gptq-w3", "tiny-rtn-w4", "tiny-fp", "small-rtn-w4"};
    QTest::newRow("Δppl ascending, missing last") << int(ResultsModel::DeltaPpl) << int(Qt::AscendingOrder)
                                                  << QStringList{"tiny-fp", "tiny-rtn-w4", "tiny-gptq-w3", "small-rtn-w4"};
    QTest::newRow("Δppl descending, missing last") << int(ResultsModel::DeltaPpl) << int(Qt::DescendingOrder)
                                                   << QStringList{"tiny-gptq-w3", "tiny-rtn-w4", "tiny-fp", "small-rtn-w4"};
    QTest::newRow("size ascending") << int(ResultsModel::SizeMB) << int(Qt::AscendingOrder)
                                    << QStringList{"tiny-gptq-w3", "tiny-rtn-w4", "small-rtn-w4", "tiny-fp"};
    QTest::newRow("model then text order") << int(ResultsModel::Model) << int(Qt::AscendingOrder)
                                           << QStringList{"small-rtn-w4", "tiny-fp", "tiny-rtn-w4", "tiny-gptq-w3"};
  }
  void sort() {
    QFETCH(int, col);
    QFETCH(int, order);
    QFETCH(QStringList, runIds);
    ResultsModel m;
    m.setRecords(fourRecords());
    ResultsFilter f;
    f.setSourceModel(&m);
    f.sort(col, Qt::SortOrder(order));
    QStringList got;
    for (int r = 0; r < f.rowCount(); ++r) got << f.index(r, 0).data(ResultsModel::RunIdRole).toString();
    QCOMPARE(got, runIds);
  }

  void filter_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("method");
    QTest::addColumn<int>("rows");
    QTest::newRow("none") << "" << "" << 4;
    QTest::newRow("method rtn") << "" << "rtn" << 2;
    QTest::newRow("method fp") << "" << "fp" << 1;
    QTest::newRow("text gptq") << "gptq" << "" << 1;
    QTest::newRow("text model") << "SMALL" << "" << 1;
    QTest::newRow("two words") << "tiny valid" << "" << 2;  // calib column holds austen-valid
    QTest::newRow("text and method") << "tiny" << "rtn" << 1;
    QTest::newRow("run id") << "gptq-w3" << "" << 1;
    QTest::newRow("no match") << "omniquant" << "" << 0;
  }
  void filter() {
    QFETCH(QString, text);
    QFETCH(QString, method);
    QFETCH(int, rows);
    ResultsModel m;
    m.setRecords(fourRecords());
    ResultsFilter f;
    f.setSourceModel(&m);
    f.setText(text);
    f.setMethod(method);
    QCOMPARE(f.rowCount(), rows);
  }

  void browserReadsADirectoryAndWatchesIt() {
    QTemporaryDir dir;
    const std::string d = dir.path().toStdString();
    auto four = fourRecords();
    for (size_t i = 0; i < 3; ++i) ptq::write_record(d, four[i].record);
    {
      QFile junk(dir.filePath("notes.json"));
      QVERIFY(junk.open(QIODevice::WriteOnly));
      junk.write("{\"hello\": 1}");
    }
    ptq::views::ResultsBrowser b;
    QSignalSpy changed(&b, &ptq::views::ResultsBrowser::filteredChanged);
    QVERIFY(b.openDirectory(dir.path()));
    QCOMPARE(b.model()->rowCount(), 3);
    QCOMPARE(b.problems().size(), 1);
    QVERIFY(b.problems().first().contains("notes.json"));
    QVERIFY(changed.count() >= 1);
    // Methods present fill the method filter.
    auto* methods = b.findChild<QComboBox*>("methodFilter");
    QCOMPARE(methods->count(), 4);  // all, fp, gptq, rtn
    // A record written later by another process (the CLI) appears through the watcher.
    ptq::write_record(d, four[3].record);
    QTRY_COMPARE_WITH_TIMEOUT(b.model()->rowCount(), 4, 5000);
    // Filters and selection feed the views.
    b.findChild<QLineEdit*>("filter")->setText("tiny");
    QCOMPARE(b.filteredRecords().size(), size_t(3));
    methods->setCurrentIndex(methods->findData("rtn"));
    QCOMPARE(b.filteredRecords().size(), size_t(1));
    QCOMPARE(b.filteredRecords()[0]["run_id"], json("tiny-rtn-w4"));
    b.findChild<QLineEdit*>("filter")->clear();
    methods->setCurrentIndex(0);
    b.selectRunId("tiny-gptq-w3");
    QCOMPARE(b.selectedRecords().size(), size_t(1));
    QCOMPARE(b.selectedRecords()[0]["method"], json("gptq"));
    // Reload keeps the selection.
    b.reload();
    QCOMPARE(b.selectedRecords().size(), size_t(1));
  }

  // The results browser and the comparison table name their shared columns alike and give them
  // in the same units (accuracy and top-1 in percent; size in MB below 1 GB); both give bits per
  // weight with and without the embeddings.
  void bothTablesAgreeOnNamesAndUnits() {
    ResultsModel m;
    auto entries = fourRecords();
    entries[1].record["metrics"]["size"]["linear_bits_per_weight"] = 4.25;
    m.setRecords(entries);
    std::vector<json> records;
    for (const auto& e : entries) records.push_back(e.record);
    ptq::views::RunTableModel t;
    t.setRecords(records);
    auto header = [](const QAbstractItemModel& model, int c) { return model.headerData(c, Qt::Horizontal).toString(); };
    const std::vector<std::pair<int, QString>> shared = {
        {ResultsModel::Ppl, "ppl"}, {ResultsModel::DeltaPpl, "dppl"}, {ResultsModel::SizeMB, "size"},
        {ResultsModel::BitsPerWeight, "bpw"}, {ResultsModel::LinearBitsPerWeight, "lbpw"}, {ResultsModel::KlMean, "kl"},
        {ResultsModel::Top1, "top1"}};
    for (const auto& [col, key] : shared) {
      QVERIFY2(t.column(key) >= 0, qPrintable(key));
      QCOMPARE(header(m, col), header(t, t.column(key)));
      for (int row = 0; row < m.rowCount(); ++row)
        QCOMPARE(m.index(row, col).data().toString(), t.index(row, t.column(key)).data().toString());
    }
    QCOMPARE(header(m, ResultsModel::BitsPerWeight), QString("bits/weight (all)"));
    QCOMPARE(header(m, ResultsModel::LinearBitsPerWeight), QString("bits/weight (linear)"));
    QVERIFY(m.headerData(ResultsModel::BitsPerWeight, Qt::Horizontal, Qt::ToolTipRole).toString().contains("embeddings"));
    QCOMPARE(m.index(1, ResultsModel::LinearBitsPerWeight).data().toString(), QString("4.25"));
    // Task accuracy in percent in both (lambada 0.4 of the rtn run: 40.0).
    QCOMPARE(t.index(1, t.column("task:lambada")).data().toString(), QString("40.0"));
    QVERIFY(header(m, ResultsModel::TaskAcc).contains("(%)"));
  }

  // A path typed into the directory field that does not exist is questioned, not created.
  void typedMissingDirectoryIsQuestioned() {
    QTemporaryDir dir;
    ptq::views::ResultsBrowser b;
    QVERIFY(b.openDirectory(dir.path()));
    QString asked;
    bool answer = false;
    b.setCreateConfirmation([&](const QString& p) {
      asked = p;
      return answer;
    });
    const QString missing = dir.filePath("typo/results");
    QVERIFY(!b.openTypedDirectory(missing));
    QCOMPARE(asked, missing);
    QVERIFY(!QFileInfo::exists(missing));
    QCOMPARE(b.directory(), QDir(dir.path()).absolutePath());
    QCOMPARE(b.findChild<QLineEdit*>("resultsDir")->text(), b.directory());
    answer = true;
    QVERIFY(b.openTypedDirectory(missing));
    QVERIFY(QFileInfo(missing).isDir());
    QCOMPARE(b.directory(), missing);
    asked.clear();
    QVERIFY(b.openTypedDirectory(dir.path()));  // an existing one: no question
    QVERIFY(asked.isEmpty());
  }

  void unusableDirectoryNamesTheProblem() {
    ptq::views::ResultsBrowser b;
    QVERIFY(!b.openDirectory("/proc/no-such-dir/results"));
    QVERIFY(b.error().contains("/proc/no-such-dir/results"));
    QVERIFY(b.directory().isEmpty());
  }
};

QTEST_MAIN(TestResultsBrowser)
#include "test_results_browser.moc"
