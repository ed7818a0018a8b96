// Qt Test: the typed settings (views/settings.h) round-trip through a QSettings file, fall back
// to their declared defaults, and keep recent lists most-recent-first without duplicates.
#include <QTemporaryDir>
#include <QtTest>

#include "views/records/settings.h"

using namespace ptq::views;

class TestSettings : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void defaults() {
    QTemporaryDir dir;
    QSettings store(dir.filePath("s.ini"), QSettings::IniFormat);
    Settings s(&store);
    QCOMPARE(s.get(setting::lastExportDpi), 300);
    QCOMPARE(s.get(setting::lastExportPreset), QString("single-column"));
    QVERIFY(s.get(setting::recentModels).isEmpty());
    QVERIFY(s.get(setting::windowGeometry).isEmpty());
  }

  void roundTrip() {
    QTemporaryDir dir;
    const QString file = dir.filePath("s.ini");
    const QByteArray geometry("\x01\x02geometry\xff", 11), state("state\x00\x07", 7);
    {
      QSettings store(file, QSettings::IniFormat);
      Settings s(&store);
      s.set(setting::windowGeometry, geometry);
      s.set(setting::windowState, state);
      s.set(setting::lastExportDpi, 600);
      s.set(setting::lastExportPreset, QString("double-column"));
      s.set(setting::lastExportDir, QString("/tmp/figures"));
      s.pushRecent(setting::recentModels, "/m/a");
      s.pushRecent(setting::recentResultsDirs, "/r/1");
      s.sync();
    }
    QSettings store(file, QSettings::IniFormat);
    Settings s(&store);
    QCOMPARE(s.get(setting::windowGeometry), geometry);
    QCOMPARE(s.get(setting::windowState), state);
    QCOMPARE(s.get(setting::lastExportDpi), 600);
    QCOMPARE(s.get(setting::lastExportPreset), QString("double-column"));
    QCOMPARE(s.get(setting::lastExportDir), QString("/tmp/figures"));
    QCOMPARE(s.get(setting::recentModels), QStringList{"/m/a"});
    QCOMPARE(s.get(setting::recentResultsDirs), QStringList{"/r/1"});
  }

  void recentList_data() {
    QTest::addColumn<QStringList>("pushed");
    QTest::addColumn<QStringList>("expected");
    QTest::newRow("most recent first") << QStringList{"a", "b", "c"} << QStringList{"c", "b", "a"};
    QTest::newRow("a repeat moves to the front") << QStringList{"a", "b", "a"} << QStringList{"a", "b"};
    QTest::newRow("empty entries ignored") << QStringList{"a", "", "b"} << QStringList{"b", "a"};
    QStringList twelve, ten;
    for (int i = 0; i < 12; ++i) twelve << QString::number(i);
    for (int i = 11; i >= 2; --i) ten << QString::number(i);
    QTest::newRow("at most ten") << twelve << ten;
  }
  void recentList() {
    QFETCH(QStringList, pushed);
    QFETCH(QStringList, expected);
    QTemporaryDir dir;
    QSettings store(dir.filePath("s.ini"), QSettings::IniFormat);
    Settings s(&store);
    for (const QString& p : pushed) s.pushRecent(setting::recentModels, p);
    QCOMPARE(s.get(setting::recentModels), expected);
    QVERIFY(s.get(setting::recentResultsDirs).isEmpty());  // lists are independent
  }

  void mistypedValueFallsBackToTheDefault() {
    QTemporaryDir dir;
    QSettings store(dir.filePath("s.ini"), QSettings::IniFormat);
    store.setValue(setting::lastExportDpi.name, "not a number");
    Settings s(&store);
    QCOMPARE(s.get(setting::lastExportDpi), 300);
  }
};

QTEST_MAIN(TestSettings)
#include "test_settings.moc"
