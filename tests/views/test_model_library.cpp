// Qt Test: the model library panel reads checkpoint folders (through the engine reader the
// application injects) and names bad ones.
#include <QTableWidget>
#include <QTreeWidget>
#include <QtTest>

#include "app/gui/engine.h"
#include "views/panels/model_library_panel.h"

class TestModelLibrary : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void addModel_data() {
    QTest::addColumn<QString>("dir");
    QTest::addColumn<QString>("architecture");
    QTest::addColumn<int>("linears");
    QTest::newRow("mixtral") << QString(PTQ_SHARED_DIR "/parity/mixtral") << "MixtralForCausalLM" << 2 * (4 + 1 + 12);
    QTest::newRow("qwen2") << QString(PTQ_SHARED_DIR "/parity/qwen2") << "Qwen2ForCausalLM" << 2 * 7;
    QTest::newRow("austen-tiny") << QString(PTQ_SHARED_DIR "/models/austen-tiny") << "LlamaForCausalLM" << 4 * 7;
  }
  void addModel() {
    QFETCH(QString, dir);
    QFETCH(QString, architecture);
    QFETCH(int, linears);
    ptq::views::ModelLibraryPanel panel(ptq::gui::checkpointReader());
    QVERIFY(panel.addModel(dir));
    QCOMPARE(panel.modelCount(), 1);
    auto* list = panel.findChild<QTreeWidget*>("models");
    QCOMPARE(list->topLevelItem(0)->text(1), architecture);
    QCOMPARE(panel.findChild<QTableWidget*>("layers")->rowCount(), linears);
    QCOMPARE(panel.selectedModel(), dir);
    QVERIFY(panel.addModel(dir));  // adding twice keeps one entry
    QCOMPARE(panel.modelCount(), 1);
  }
  void badFolderNamesTheProblem() {
    ptq::views::ModelLibraryPanel panel(ptq::gui::checkpointReader());
    QVERIFY(!panel.addModel("/nonexistent/checkpoint"));
    QVERIFY(panel.error().contains("does not exist"));
    QCOMPARE(panel.modelCount(), 0);
  }
};

QTEST_MAIN(TestModelLibrary)
#include "test_model_library.moc"
