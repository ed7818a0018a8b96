// Qt Test: the model library panel reads checkpoint folders (through the engine reader the
// application injects) and names bad ones.
#include <QFileInfo>
#include <QSignalSpy>
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
  // Removing takes a model out of the library (not off the disk) and says which one went.
  void removeModel() {
    ptq::views::ModelLibraryPanel panel(ptq::gui::checkpointReader());
    const QString tiny = PTQ_SHARED_DIR "/models/austen-tiny", small = PTQ_SHARED_DIR "/models/austen-small";
    QVERIFY(panel.addModel(tiny));
    QVERIFY(panel.addModel(small));
    QSignalSpy removed(&panel, &ptq::views::ModelLibraryPanel::modelRemoved);
    QCOMPARE(panel.selectedModel(), small);
    panel.removeSelected();
    QCOMPARE(panel.modelDirs(), QStringList{tiny});
    QCOMPARE(removed.size(), 1);
    QCOMPARE(removed.first().first().toString(), small);
    QVERIFY(QFileInfo(small).isDir());
    QVERIFY(!panel.removeModel(small));  // already gone
    QVERIFY(panel.removeModel(tiny));
    QCOMPARE(panel.modelCount(), 0);
    QCOMPARE(panel.findChild<QTableWidget*>("layers")->rowCount(), 0);
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
