// Qt Test: the workbench's Slurm target (issue 19) with a fake sbatch / squeue / sacct / scancel on
// PATH (shell scripts this test writes; the real Slurm is tests/test_slurm.sh): the sweep builder
// offers "Slurm cluster" only when sbatch is on PATH, its limits reach the sbatch script, each
// array task's state comes from squeue and the records, each complete record is announced once
// (the results browser adds it), sacct's "accounting disabled" still gives failed tasks, sbatch's
// refusal is the error, and cancel calls scancel. With PTQ_SCREENSHOT_DIR set, the sweep builder
// with the Slurm target is saved there as panel-sweep-slurm.png.
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QLineEdit>
#include <QListWidget>
#include <QPixmap>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTableView>
#include <QTemporaryDir>
#include <QtTest>

#include "app/gui/demo.h"
#include "app/gui/main_window.h"
#include "core/records/result_store.h"
#include "core/runtime/errors.h"
#include "eval/experiment/experiment_spec.h"
#include "views/jobs/job_queue.h"
#include "views/jobs/slurm_sweeps.h"
#include "views/jobs/slurm_task_model.h"
#include "views/panels/jobs_panel.h"
#include "views/panels/results_browser.h"
#include "views/records/results_model.h"
#include "views/panels/slurm_settings.h"
#include "views/panels/sweep_builder.h"

using nlohmann::json;
using namespace ptq::views;

namespace {

json spec(const std::string& name) { return {{"model", "/nowhere/" + name}, {"method", "fp"}, {"device", "cpu"}}; }
std::string runId(const json& s) { return ptq::ExperimentSpec::from_json(s).run_id(); }

QString readAll(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll()) : QString();
}

void writeFile(const QString& path, const QString& text, bool executable = false) {
  QFile f(path);
  QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
  f.write(text.toUtf8());
  f.close();
  if (executable) f.setPermissions(QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
}

}  // namespace

class TestSlurmJobs : public QObject {
  Q_OBJECT
  QTemporaryDir fake_;
  QByteArray path_;
  QString bin() const { return fake_.filePath("bin"); }
  void queue(const QString& lines) { writeFile(fake_.filePath("squeue.txt"), lines); }

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(fake_.isValid());
    QVERIFY(QDir().mkpath(bin()));
    qputenv("FAKE_SLURM", fake_.path().toUtf8());
    writeFile(bin() + "/sbatch",
              "#!/bin/sh\nprintf '%s\\n' \"$@\" >\"$FAKE_SLURM/sbatch.args\"\n"
              "if [ -f \"$FAKE_SLURM/sbatch.fail\" ]; then cat \"$FAKE_SLURM/sbatch.fail\" >&2; exit 1; fi\n"
              "echo 4242\n", true);
    writeFile(bin() + "/squeue", "#!/bin/sh\ncat \"$FAKE_SLURM/squeue.txt\" 2>/dev/null\nexit 0\n", true);
    writeFile(bin() + "/sacct", "#!/bin/sh\necho 'Slurm accounting storage is disabled' >&2\nexit 1\n", true);
    writeFile(bin() + "/scancel", "#!/bin/sh\nprintf '%s\\n' \"$*\" >>\"$FAKE_SLURM/scancel.log\"\n", true);
    path_ = qgetenv("PATH");
    qputenv("PATH", bin().toUtf8() + ":" + path_);
  }
  void cleanupTestCase() { qputenv("PATH", path_); }

  void slurmTargetOnlyWithSbatch() {
    SweepBuilder with;
    QVERIFY(with.target()->slurmAvailable());
    auto* target = with.findChild<QComboBox*>("target");
    QVERIFY(target && target->count() == 2 && target->itemText(1) == "Slurm cluster");
    auto* options = with.findChild<QWidget*>("slurmOptions");
    QVERIFY(options->isHidden());
    with.target()->chooseSlurm(true);
    QVERIFY(with.target()->slurmChosen() && !options->isHidden());
    qputenv("PATH", "/nonexistent");
    SweepBuilder without;
    qputenv("PATH", bin().toUtf8() + ":" + path_);
    QVERIFY(!without.target()->slurmAvailable());
    without.target()->chooseSlurm(true);
    QVERIFY(!without.target()->slurmChosen());
    QCOMPARE(without.findChild<QComboBox*>("target")->count(), 1);
  }

  void submitWatchAndCancel() {
    QTemporaryDir results;
    SlurmSettings form(true);
    form.chooseSlurm(true);
    form.findChild<QLineEdit*>("partition")->setText("gpu");
    form.findChild<QLineEdit*>("timeLimit")->setText("01:00:00");
    form.findChild<QSpinBox*>("arrayLimit")->setValue(2);
    form.findChild<QSpinBox*>("gpusPerRun")->setValue(1);
    form.findChild<QLineEdit*>("sbatchArgs")->setText("--qos=high; --constraint=a100");
    const std::vector<json> specs = {spec("a"), spec("b"), spec("c")};
    SlurmSweeps sweeps;
    sweeps.setPtqExecutable("/opt/ptq/bin/ptq");
    QSignalSpy landed(&sweeps, &SlurmSweeps::recordLanded);
    queue("4242|0|PENDING|None\n4242|1|PENDING|Priority\n4242|2|PENDING|Priority\n");  // as squeue lists a new array
    const int id = sweeps.submit(specs, results.path(), "three", form.options());
    QCOMPARE(sweeps.sweep(id)->count("pending"), 3);
    const QString args = readAll(fake_.filePath("sbatch.args"));
    QVERIFY2(args.startsWith("--parsable\n"), qPrintable(args));
    const QString script = readAll(args.split('\n').value(1));
    for (const char* needle : {"#SBATCH --partition=gpu", "#SBATCH --array=0-2%2", "#SBATCH --time=01:00:00",
                               "#SBATCH --gres=gpu:1", "#SBATCH --qos=high", "#SBATCH --constraint=a100",
                               "ptq='/opt/ptq/bin/ptq'"})
      QVERIFY2(script.contains(needle), needle);
    const SlurmSweep* s = sweeps.sweep(id);
    QCOMPARE(s->status.job_ids, std::vector<std::string>{"4242"});

    queue("4242|0|RUNNING|None\n4242|1|PENDING|Priority\n4242|2|PENDING|Priority\n");
    sweeps.poll();
    SlurmTaskModel model(&sweeps);
    QCOMPARE(model.rowCount(), 3);
    auto cell = [&](int row, int col) { return model.index(row, col).data().toString(); };
    QCOMPARE(cell(0, SlurmTaskModel::State), QString("running"));
    QCOMPARE(cell(0, SlurmTaskModel::Job), QString("4242_0"));
    QCOMPARE(cell(1, SlurmTaskModel::State), QString("pending"));
    QCOMPARE(cell(1, SlurmTaskModel::Detail), QString("Priority"));
    QCOMPARE(landed.count(), 0);

    // Task 0 finishes with a complete record; task 2 disappears without one (killed).
    ptq::write_record(results.path().toStdString(), {{"schema", ptq::kResultSchemaName}, {"schema_version", ptq::kResultSchemaVersion},
                                                     {"run_id", runId(specs[0])}, {"status", "complete"}, {"method", "fp"}});
    queue("4242|1|RUNNING|None\n");
    sweeps.poll();
    QCOMPARE(cell(0, SlurmTaskModel::State), QString("complete"));
    QCOMPARE(cell(1, SlurmTaskModel::State), QString("running"));
    QCOMPARE(cell(2, SlurmTaskModel::State), QString("failed"));
    QVERIFY2(cell(2, SlurmTaskModel::Detail).contains("ended without a complete record"), qPrintable(cell(2, SlurmTaskModel::Detail)));
    QVERIFY(QString::fromStdString(sweeps.sweep(id)->status.notes).contains("accounting storage is disabled"));
    QCOMPARE(landed.count(), 1);
    QCOMPARE(landed.at(0).at(0).toString(), QDir(results.path()).filePath(QString::fromStdString(runId(specs[0])) + ".json"));
    sweeps.poll();
    QCOMPARE(landed.count(), 1);  // announced once

    // Cancel from the jobs panel: scancel on the array.
    JobQueue jobs;
    JobsPanel panel(&jobs);
    panel.setSlurm(&sweeps);
    QVERIFY(panel.slurmTable());
    QCOMPARE(panel.slurmTable()->model()->rowCount(), 3);
    panel.slurmTable()->selectRow(1);
    panel.cancelSelectedOnCluster();
    QCOMPARE(readAll(fake_.filePath("scancel.log")).trimmed(), QString("4242"));
    QVERIFY(!sweeps.sweep(id)->finished());  // the fake queue still shows task 1
    queue("");
    sweeps.poll();
    QVERIFY(sweeps.sweep(id)->finished());
    QCOMPARE(sweeps.sweep(id)->count("failed"), 2);
  }

  void sbatchRefusalIsTheError() {
    QTemporaryDir results;
    writeFile(fake_.filePath("sbatch.fail"), "sbatch: error: invalid partition specified: nope\n"
                                             "sbatch: error: Batch job submission failed: Invalid partition name specified\n");
    SlurmSweeps sweeps;
    sweeps.setPtqExecutable("/opt/ptq/bin/ptq");
    ptq::SlurmOptions o;
    o.partition = "nope";
    QString error;
    try {
      sweeps.submit({spec("x")}, results.path(), "bad", o);
    } catch (const ptq::Error& e) {
      error = QString::fromUtf8(e.what());
    }
    QFile::remove(fake_.filePath("sbatch.fail"));
    QVERIFY2(error.contains("Invalid partition name specified") && error.contains("are left in"), qPrintable(error));
    QVERIFY(sweeps.sweeps().empty());
    QVERIFY(QDir(results.path() + "/.slurm").entryList(QDir::Dirs | QDir::NoDotAndDotDot).size() == 1);  // files kept
  }

  // The window: "Submit to Slurm" in the sweep builder submits the demo sweep as an array, the
  // jobs panel lists its tasks, a record that lands reaches the results browser.
  void windowSubmitsToSlurm() {
    QTemporaryDir dir;
    QSettings settings(dir.filePath("s.ini"), QSettings::IniFormat);
    ptq::gui::MainWindow w(&settings);
    QString err;
    QVERIFY2(ptq::gui::openDemo(w, dir.filePath("results"), &err), qPrintable(err));
    const int n = w.sweepBuilder()->runCount();
    QVERIFY(n > 1);
    w.slurmSweeps()->setPtqExecutable("/opt/ptq/bin/ptq");
    w.sweepBuilder()->target()->chooseSlurm(true);
    QFile::remove(fake_.filePath("sbatch.args"));
    QString tasks;
    for (int i = 0; i < n; ++i) tasks += QStringLiteral("4242|%1|PENDING|Priority\n").arg(i);
    queue(tasks);
    w.sweepBuilder()->findChild<QPushButton*>("enqueueSweep")->click();
    QVERIFY(QFile::exists(fake_.filePath("sbatch.args")));
    QCOMPARE(int(w.slurmSweeps()->sweeps().size()), 1);
    QVERIFY(w.jobQueue()->jobs().empty());  // nothing ran locally
    QVERIFY(w.jobsPanel()->slurmTable());
    QCOMPARE(w.jobsPanel()->slurmTable()->model()->rowCount(), n);
    const std::string id = w.slurmSweeps()->sweeps().front().status.runs.front().run_id;
    ptq::write_record(w.resultsBrowser()->directory().toStdString(),
                      {{"schema", ptq::kResultSchemaName}, {"schema_version", ptq::kResultSchemaVersion}, {"run_id", id},
                       {"status", "complete"}, {"method", "fp"}});
    w.slurmSweeps()->poll();
    QCOMPARE(w.resultsBrowser()->model()->rowCount(), 1);
    queue("");
  }

  void screenshotOfTheSlurmTarget() {
    SweepBuilder b;
    QString error;
    QVERIFY2(b.setSweepJson({{"models", {"/models/Llama-3.1-8B", "/models/Qwen2.5-7B"}},
                             {"methods", {"fp", "rtn", "gptq", "awq+gptq"}}, {"bits", {3, 4}}, {"groups", {128}},
                             {"calibration", {{{"name", "c4"}, {"files", {"/data/c4-train.txt"}}}}},
                             {"eval", {{"text", "/data/wikitext2-test.txt"}, {"seqlen", 2048}}}, {"device", "cuda"}},
                            "/", &error),
             qPrintable(error));
    b.target()->chooseSlurm(true);
    b.findChild<QLineEdit*>("partition")->setText("gpu-a100");
    b.findChild<QLineEdit*>("timeLimit")->setText("04:00:00");
    b.findChild<QSpinBox*>("gpusPerRun")->setValue(1);
    b.findChild<QSpinBox*>("cpusPerRun")->setValue(8);
    b.findChild<QSpinBox*>("arrayLimit")->setValue(16);
    b.resize(760, 1100);
    b.show();
    QApplication::processEvents();
    QCOMPARE(b.runCount(), 14);  // 2 models x (fp + 3 methods x 2 bits)
    QCOMPARE(b.findChild<QPushButton*>("enqueueSweep")->text(), QString("Submit to Slurm"));
    const QPixmap shot = b.grab();
    QVERIFY(!shot.isNull());
    const QString dir = qEnvironmentVariable("PTQ_SCREENSHOT_DIR");
    if (!dir.isEmpty()) QVERIFY(shot.save(QDir(dir).filePath("panel-sweep-slurm.png")));
  }
};

QTEST_MAIN(TestSlurmJobs)
#include "test_slurm_jobs.moc"
