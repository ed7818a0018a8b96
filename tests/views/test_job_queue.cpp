// Qt Test: the job queue, with a stand-in runner (no engine, no LibTorch: the engine's own jobs
// are in test_engine_jobs): one job at a time per device, devices overlap, "auto" resolved before
// scheduling, progress and ETA reach the GUI thread, cancel (running and queued), a failed job
// shows its error and the queue goes on, complete records are not run again, a bad spec is an
// error when it is enqueued, a record that is not the spec's is not written.
#include <QElapsedTimer>
#include <QLineEdit>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QThread>
#include <QTimer>
#include <QImage>
#include <QTableView>
#include <QtTest>
#include <chrono>
#include <cmath>
#include <mutex>
#include <optional>
#include <thread>

#include "core/runtime/errors.h"
#include <QFile>
#include "core/records/result_store.h"
#include "views/jobs/job_queue.h"
#include "views/jobs/job_table_model.h"
#include "views/panels/jobs_panel.h"
#include "views/panels/results_browser.h"
#include "views/records/results_model.h"

using nlohmann::json;
using ptq::views::Job;
using ptq::views::JobQueue;
using ptq::views::JobStatus;
using ptq::views::JobTableModel;

namespace {

const std::string kModel = PTQ_SHARED_DIR "/models/austen-tiny";
const std::string kEval = PTQ_SHARED_DIR "/corpus/austen-test.txt";

json fakeSpec(const std::string& name, const std::string& device = "cpu") {
  return {{"model", "/nowhere/" + name}, {"method", "fp"}, {"device", device}};
}

json realSpec(const std::string& model, const std::string& method, int64_t maxWindows) {
  json s = {{"model", model}, {"method", method}, {"device", "cpu"},
            {"eval", {{"text", kEval}, {"seqlen", 128}, {"max_windows", maxWindows}}}};
  if (method != "fp") {
    s["bits"] = 4;
    s["group"] = 128;
  }
  return s;
}

struct Interval {
  std::string name;
  double start, end;
};

// A stand-in for run_experiment: `steps` × 10 ms of work with progress and cancel checks; a model
// named "bad*" fails like a missing folder does.
class FakeEngine {
 public:
  explicit FakeEngine(int steps) : steps_(steps) { clock_.start(); }
  // runIdOverride: the run_id the stand-in puts in its records ("" = the spec's own).
  ptq::views::JobEngine engine(std::function<std::string(const std::string&)> resolve = {}) {
    return {runner(), std::move(resolve)};
  }
  ptq::RecordRunner runner() {
    return [this](const ptq::ExperimentSpec& spec, ptq::Feedback& fb) {
      const std::string model = spec.model_dir;
      const std::string name = model.substr(model.rfind('/') + 1);
      const double t0 = now();
      if (name.rfind("bad", 0) == 0) throw ptq::Error("model folder '" + model + "' does not exist");
      for (int i = 0; i < steps_; ++i) {
        fb.check();
        fb.report("work", i + 1, steps_);
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        log_.push_back({name, t0, now()});
      }
      return json{{"schema", ptq::kResultSchemaName}, {"schema_version", ptq::kResultSchemaVersion},
                  {"run_id", runIdOverride ? *runIdOverride : spec.run_id()}, {"status", "complete"}, {"method", "fp"}};
    };
  }
  std::optional<std::string> runIdOverride;
  std::vector<Interval> log() {
    std::lock_guard<std::mutex> lock(mu_);
    return log_;
  }
  const Interval* find(const std::string& name) {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& i : log_)
      if (i.name == name) return &i;
    return nullptr;
  }

 private:
  double now() const { return clock_.nsecsElapsed() / 1e9; }
  int steps_;
  QElapsedTimer clock_;
  std::mutex mu_;
  std::vector<Interval> log_;
};

bool waitIdle(JobQueue& q, int ms) {
  QElapsedTimer t;
  t.start();
  while (q.busy() && t.elapsed() < ms) QTest::qWait(10);
  return !q.busy();
}

}  // namespace

class TestJobQueue : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void oneJobPerDeviceDevicesOverlap() {
    QTemporaryDir dir;
    FakeEngine engine(20);
    JobQueue q;
    q.setEngine(engine.engine());
    bool allOnGuiThread = true;
    QStringList written;
    connect(&q, &JobQueue::recordWritten, this, [&](const QString& p) {
      allOnGuiThread &= QThread::currentThread() == qApp->thread();
      written << p;
    });
    const int a = q.enqueue(fakeSpec("a"), dir.path());
    const int b = q.enqueue(fakeSpec("b"), dir.path());
    const int c = q.enqueue(fakeSpec("c", "cuda"), dir.path());
    QCOMPARE(q.job(a)->status, JobStatus::Running);
    QCOMPARE(q.job(b)->status, JobStatus::Queued);  // same device as a
    QCOMPARE(q.job(c)->status, JobStatus::Running);  // another device
    QCOMPARE(q.job(c)->device, QString("cuda:0"));
    QVERIFY(waitIdle(q, 10000));
    for (int id : {a, b, c}) QCOMPARE(q.job(id)->status, JobStatus::Done);
    auto* ia = engine.find("a");
    auto* ib = engine.find("b");
    auto* ic = engine.find("c");
    QVERIFY(ia && ib && ic);
    QVERIFY2(ib->start >= ia->end, "two cpu jobs overlapped");
    QVERIFY2(ic->start < ia->end && ia->start < ic->end, "cpu and cuda jobs did not overlap");
    QCOMPARE(written.size(), 3);
    QVERIFY(allOnGuiThread);
    for (const QString& p : written) QVERIFY(QFile::exists(p));
  }

  void progressAndEtaReachTheGuiThread() {
    QTemporaryDir dir;
    FakeEngine engine(40);
    JobQueue q;
    q.setEngine(engine.engine());
    JobTableModel model(&q);
    std::vector<double> fractions, etas;
    QString stage;
    connect(&q, &JobQueue::jobChanged, this, [&](int id) {
      const Job* j = q.job(id);
      if (j->status != JobStatus::Running) return;
      fractions.push_back(j->fraction);
      etas.push_back(j->etaSeconds);
      // The last stage shown while a run reported; once the run is over it is cleared (no stale label).
      const QString shown = model.index(0, JobTableModel::Stage).data().toString();
      if (!shown.isEmpty()) stage = shown;
      if (j->written == 1) QCOMPARE(j->stage, QString());
    });
    q.enqueue(fakeSpec("p"), dir.path());
    QVERIFY(waitIdle(q, 10000));
    QVERIFY2(fractions.size() >= 3, "progress was not posted while running");
    QVERIFY(std::is_sorted(fractions.begin(), fractions.end()));
    QVERIFY(fractions.back() >= 0.5);
    QVERIFY(*std::max_element(etas.begin(), etas.end()) > 0);
    QVERIFY2(stage.startsWith("work "), qPrintable(stage));  // "work 12/40"
    QCOMPARE(model.index(0, JobTableModel::Progress).data().toString(), QString("100%"));
    QCOMPARE(model.index(0, JobTableModel::Status).data().toString(), QString("done"));
  }

  void cancelRunningAndQueuedJobs() {
    QTemporaryDir dir;
    FakeEngine engine(500);  // 5 s unless cancelled
    JobQueue q;
    q.setEngine(engine.engine());
    const int a = q.enqueue(fakeSpec("long"), dir.path());
    const int b = q.enqueue(fakeSpec("queued"), dir.path());
    QTRY_VERIFY_WITH_TIMEOUT(q.job(a)->fraction > 0, 5000);
    q.cancel(b);  // queued: cancelled at once, never runs
    QCOMPARE(q.job(b)->status, JobStatus::Cancelled);
    QElapsedTimer t;
    t.start();
    q.cancel(a);
    QCOMPARE(q.job(a)->status, JobStatus::Cancelling);
    QVERIFY(waitIdle(q, 5000));
    QVERIFY2(t.elapsed() < 1000, "cancel took too long");
    QCOMPARE(q.job(a)->status, JobStatus::Cancelled);
    QVERIFY(!engine.find("long") && !engine.find("queued"));
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files).size(), 0);
    // The queue still runs what comes next.
    FakeEngine quick(5);
    q.setEngine(quick.engine());
    const int c = q.enqueue(fakeSpec("after"), dir.path());
    QVERIFY(waitIdle(q, 5000));
    QCOMPARE(q.job(c)->status, JobStatus::Done);
  }

  void failedJobShowsItsErrorAndTheQueueGoesOn() {
    QTemporaryDir dir;
    FakeEngine engine(5);
    JobQueue q;
    q.setEngine(engine.engine());
    const int bad = q.enqueue(fakeSpec("bad-folder"), dir.path());
    const int ok = q.enqueue(fakeSpec("good"), dir.path());
    const int sweep = q.enqueueRuns({fakeSpec("s1"), fakeSpec("bad-s2"), fakeSpec("s3")}, dir.path(), "sweep");
    QVERIFY(waitIdle(q, 10000));
    QCOMPARE(q.job(bad)->status, JobStatus::Failed);
    JobTableModel model(&q);
    const QModelIndex status = model.index(0, JobTableModel::Status);
    QVERIFY2(status.data().toString().contains("/nowhere/bad-folder' does not exist"), qPrintable(status.data().toString()));
    QVERIFY(status.data(Qt::ToolTipRole).toString().contains("does not exist"));
    QCOMPARE(q.job(ok)->status, JobStatus::Done);
    const Job* s = q.job(sweep);
    QCOMPARE(s->status, JobStatus::Failed);
    QCOMPARE(s->written, 2);
    QCOMPARE(s->failed, 1);
    QVERIFY(s->errors.first().startsWith(ptq::views::runIdOf(fakeSpec("bad-s2")) + ": "));
    QVERIFY(s->statusText().contains("1 of 3 runs"));
    QVERIFY(engine.find("s3"));  // the run after the failure ran
    // Honest progress: the failed single run has no full bar and says so; no stale stage.
    QVERIFY(q.job(bad)->fraction < 1.0);
    QVERIFY(model.index(0, JobTableModel::Progress).data().toString().startsWith("failed at"));
    QCOMPARE(s->stage, QString());
    // Painted red, not blue: the sweep's bar (all runs over, one failed) in the jobs panel.
    ptq::views::JobsPanel panel(&q);
    panel.resize(900, 300);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    const QImage img = panel.table()->viewport()->grab().toImage();
    const QRect cell = panel.table()->visualRect(panel.model()->index(2, JobTableModel::Progress));
    int red = 0, blue = 0;
    for (int y = cell.top(); y <= cell.bottom(); ++y)
      for (int x = cell.left(); x <= cell.right(); ++x) {
        const QColor c = img.pixelColor(x * img.width() / panel.table()->viewport()->width(), y * img.height() / panel.table()->viewport()->height());
        red += c.red() > 150 && c.green() < 120 && c.blue() < 120;
        blue += c.blue() > 150 && c.red() < 120;
      }
    QVERIFY2(red > 50 && blue < red / 10, qPrintable(QString("red %1 blue %2").arg(red).arg(blue)));
  }

  void completeRecordsAreNotRunAgain() {
    QTemporaryDir dir;
    FakeEngine engine(2);
    JobQueue q;
    q.setEngine(engine.engine());
    const int first = q.enqueue(fakeSpec("once"), dir.path());
    QVERIFY(waitIdle(q, 5000));
    const int second = q.enqueue(fakeSpec("once"), dir.path());
    QVERIFY(waitIdle(q, 5000));
    QCOMPARE(q.job(first)->written, 1);
    QCOMPARE(q.job(second)->written, 0);
    QCOMPARE(q.job(second)->skipped, 1);
    QCOMPARE(q.job(second)->paths, q.job(first)->paths);
    QCOMPARE(int(engine.log().size()), 1);
  }

  // An export job runs the run's spec without its evaluation and analyses, through the engine's
  // export runner for the chosen folder and format, and writes its own record elsewhere; a
  // full-precision run, a non-empty folder and an engine that cannot export are refused at once.
  void exportJobRunsTheSpecThroughTheExporter() {
    QTemporaryDir dir;
    FakeEngine engine(1);
    ptq::views::JobEngine e = engine.engine();
    std::string gotDir, gotFormat;
    std::vector<ptq::ExperimentSpec> seen;
    e.exportRun = [&](const std::string& d, const std::string& f) -> ptq::RecordRunner {
      gotDir = d, gotFormat = f;
      ptq::RecordRunner inner = engine.runner();
      return [&seen, inner](const ptq::ExperimentSpec& s, ptq::Feedback& fb) {
        seen.push_back(s);
        return inner(s, fb);
      };
    };
    JobQueue q;
    json spec = realSpec(kModel, "rtn", 4);
    spec["analyses"] = {"compare"};
    QVERIFY_THROWS_EXCEPTION(ptq::Error, q.enqueueExport(spec, dir.filePath("out"), "gptq"));  // no exporter
    q.setEngine(e);
    QVERIFY_THROWS_EXCEPTION(ptq::Error, q.enqueueExport(realSpec(kModel, "fp", 4), dir.filePath("out"), "gptq"));
    QFile(dir.filePath("keep")).open(QIODevice::WriteOnly);
    QVERIFY_THROWS_EXCEPTION(ptq::Error, q.enqueueExport(spec, dir.path(), "gptq"));
    const int id = q.enqueueExport(spec, dir.filePath("out"), "awq");
    QVERIFY(waitIdle(q, 5000));
    QCOMPARE(q.job(id)->status, JobStatus::Done);
    QCOMPARE(gotDir, dir.filePath("out").toStdString());
    QCOMPARE(gotFormat, std::string("awq"));
    QCOMPARE(int(seen.size()), 1);
    QVERIFY(seen[0].eval_text.empty() && seen[0].analyses.empty() && seen[0].method == "rtn");
    QVERIFY(!q.job(id)->resultsDir.startsWith(dir.path()));
  }

  // A spec whose device is not one is an error when it is enqueued, naming the value (it used to
  // be scheduled as "cpu" and fail later); so is a spec that does not parse at all (its empty run
  // id used to skip the complete-record check).
  void badSpecsAreErrorsWhenEnqueued() {
    QTemporaryDir dir;
    FakeEngine engine(1);
    JobQueue q(engine.engine());
    try {
      q.enqueue(fakeSpec("x", "tpu"), dir.path());
      QFAIL("a spec on device 'tpu' was enqueued");
    } catch (const ptq::Error& e) {
      QVERIFY2(QString(e.what()).contains("'tpu'"), e.what());
    }
    try {
      q.enqueueRuns({fakeSpec("ok"), json{{"model", "/nowhere/m"}, {"bitz", 4}}}, dir.path(), "sweep");
      QFAIL("a spec with an unknown key was enqueued");
    } catch (const ptq::Error& e) {
      QVERIFY2(QString(e.what()).contains("run 2 of 2") && QString(e.what()).contains("bitz"), e.what());
    }
    QCOMPARE(int(q.jobs().size()), 0);
    QVERIFY(engine.log().empty());
  }

  // A runner's record must carry the spec's run id: one with an empty id is a failed run and
  // nothing is written (it used to be written as "<dir>/.json", which no later job finds).
  void recordOfAnotherRunIsNotWritten() {
    QTemporaryDir dir;
    FakeEngine engine(1);
    engine.runIdOverride = "";
    JobQueue q(engine.engine());
    const int id = q.enqueue(fakeSpec("anon"), dir.path());
    QVERIFY(waitIdle(q, 5000));
    QCOMPARE(q.job(id)->status, JobStatus::Failed);
    QVERIFY2(q.job(id)->errors.first().contains("run_id ''"), qPrintable(q.job(id)->errors.first()));
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden).size(), 0);
  }

  // "auto" is resolved (by the injected engine) before scheduling: on a GPU machine an "auto" job
  // waits for a "cuda" job instead of sharing cuda:0 with it.
  void autoAndCudaJobsDoNotShareAGpu() {
    QTemporaryDir dir;
    FakeEngine engine(20);
    JobQueue q(engine.engine([](const std::string& d) { return d == "auto" ? std::string("cuda:0") : d; }));
    const int a = q.enqueue(fakeSpec("on-cuda", "cuda"), dir.path());
    const int b = q.enqueue(fakeSpec("on-auto", "auto"), dir.path());
    QCOMPARE(q.job(b)->device, QString("cuda:0"));
    QCOMPARE(q.job(b)->status, JobStatus::Queued);
    QVERIFY(waitIdle(q, 10000));
    QCOMPARE(q.job(a)->status, JobStatus::Done);
    QCOMPARE(q.job(b)->status, JobStatus::Done);
    auto* ia = engine.find("on-cuda");
    auto* ib = engine.find("on-auto");
    QVERIFY(ia && ib);
    QVERIFY2(ib->start >= ia->end, "an auto job and a cuda job ran on cuda:0 at once");
  }

  // With the host's GPUs known, the rows of a "cuda" sweep spread over them, one run per GPU at a
  // time; a job that asked for cuda:0 by name waits for cuda:0.
  void sweepRunsSpreadOverEveryGpu() {
    QTemporaryDir dir;
    FakeEngine engine(20);
    ptq::views::JobEngine e = engine.engine([](const std::string& d) { return d == "auto" ? std::string("cuda:0") : d; });
    e.gpus = {"cuda:0", "cuda:1"};
    JobQueue q(e);
    const auto ids = q.enqueueSweep({fakeSpec("s1", "cuda"), fakeSpec("s2", "cuda"), fakeSpec("s3", "auto")}, dir.path(), "sweep");
    const int pinned = q.enqueue(fakeSpec("pinned", "cuda:0"), dir.path());
    QCOMPARE(q.job(ids[0])->device, QString("cuda:0"));
    QCOMPARE(q.job(ids[1])->device, QString("cuda:1"));
    QCOMPARE(q.job(ids[1])->status, JobStatus::Running);
    QCOMPARE(q.job(ids[2])->status, JobStatus::Queued);  // both GPUs busy
    QVERIFY(waitIdle(q, 10000));
    for (int id : {ids[0], ids[1], ids[2], pinned}) QCOMPARE(q.job(id)->status, JobStatus::Done);
    const auto *a = engine.find("s1"), *b = engine.find("s2"), *c = engine.find("s3"), *p = engine.find("pinned");
    QVERIFY(a && b && c && p);
    QVERIFY2(a->start < b->end && b->start < a->end, "the two GPUs did not run at once");
    QVERIFY2(c->start >= std::min(a->end, b->end), "a third run shared a GPU");
    QCOMPARE(q.job(pinned)->device, QString("cuda:0"));
    const std::vector<const Interval*> runs = {a, b, c};
    for (size_t i = 0; i < runs.size(); ++i)  // the pinned job never ran beside another run on cuda:0
      if (q.job(ids[i])->device == "cuda:0")
        QVERIFY2(p->start >= runs[i]->end || p->end <= runs[i]->start, "two runs shared cuda:0");
  }

  // Without a resolver "auto" may be any device: it overlaps with no job.
  void unresolvedAutoWaitsForEveryDevice() {
    QTemporaryDir dir;
    FakeEngine engine(10);
    JobQueue q(engine.engine());
    q.enqueue(fakeSpec("cpu-job", "cpu"), dir.path());
    const int b = q.enqueue(fakeSpec("auto-job", "auto"), dir.path());
    QCOMPARE(q.job(b)->status, JobStatus::Queued);
    QVERIFY(waitIdle(q, 10000));
    QVERIFY(engine.find("auto-job")->start >= engine.find("cpu-job")->end);
  }

  // A sweep is a row per run, each with its own progress, status and cancel, named readably.
  void sweepShowsEachRunAsARow() {
    QTemporaryDir dir;
    FakeEngine engine(30);
    JobQueue q(engine.engine());
    JobTableModel model(&q);
    QVERIFY_THROWS_EXCEPTION(ptq::Error, q.enqueueSweep({fakeSpec("ok"), json{{"method", "nope"}}}, dir.path(), "sweep"));
    QCOMPARE(model.rowCount(), 0);  // a bad run queues none
    json quantized = fakeSpec("s4");
    quantized["method"] = "rtn";
    quantized["bits"] = 3;
    quantized["group"] = 64;
    const auto ids = q.enqueueSweep({fakeSpec("s1"), fakeSpec("bad-s2"), fakeSpec("s3"), quantized}, dir.path(), "sweep");
    QCOMPARE(ids.size(), size_t(4));
    QCOMPARE(model.rowCount(), 4);
    QCOMPARE(model.index(0, JobTableModel::Title).data().toString(), QString("sweep 1/4 · fp · s1"));
    QCOMPARE(model.index(3, JobTableModel::Title).data().toString(), QString("sweep 4/4 · rtn w3g64 asym · s4"));
    QVERIFY(model.index(3, JobTableModel::Title).data(Qt::ToolTipRole).toString().contains(ptq::views::runIdOf(quantized)));
    QCOMPARE(q.job(ids[0])->status, JobStatus::Running);
    QCOMPARE(q.job(ids[1])->status, JobStatus::Queued);
    q.cancel(ids[2]);  // one run of the sweep, the others go on
    QVERIFY(waitIdle(q, 10000));
    QCOMPARE(model.index(0, JobTableModel::Status).data().toString(), QString("done"));
    QVERIFY(model.index(1, JobTableModel::Status).data().toString().startsWith("failed"));
    QCOMPARE(model.index(2, JobTableModel::Status).data().toString(), QString("cancelled"));
    QCOMPARE(model.index(3, JobTableModel::Status).data().toString(), QString("done"));
    QVERIFY(!engine.find("s3"));
    QCOMPARE(model.index(0, JobTableModel::Progress).data().toString(), QString("100%"));
  }

  // The ETA counts down while a long stage reports nothing, and leans on an expected duration
  // (the cost hint's) while little is done.
  void etaCountsDownAndUsesTheExpectedDuration() {
    QTemporaryDir dir;
    auto runner = [](const ptq::ExperimentSpec& spec, ptq::Feedback& fb) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      fb.report("quantize", 1, 10);  // 10 % after 0.5 s: 4.5 s left at that rate
      for (int i = 0; i < 150; ++i) {
        fb.check();
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      return json{{"schema", ptq::kResultSchemaName}, {"schema_version", ptq::kResultSchemaVersion},
                  {"run_id", spec.run_id()}, {"status", "complete"}, {"method", "fp"}};
    };
    JobQueue q(ptq::views::JobEngine{runner, {}});
    JobTableModel model(&q);
    auto seconds = [&] {
      const QString t = model.index(0, JobTableModel::Eta).data().toString();
      return t.endsWith(" s") ? t.chopped(2).toInt() : -1;
    };
    const int id = q.enqueue(fakeSpec("slow"), dir.path());
    QTRY_VERIFY_WITH_TIMEOUT(q.job(id)->etaSeconds >= 0, 5000);
    QTest::qWait(100);
    const int first = seconds();
    QTest::qWait(1100);
    const int later = seconds();
    // 4.5 s at the report; a second later about 1 s less (the old ETA stood still until the next report).
    QVERIFY2(first >= 3 && first <= 5 && later >= 0 && later <= first - 1, qPrintable(QString("%1 then %2").arg(first).arg(later)));
    QVERIFY(waitIdle(q, 10000));
    // With an expected 20 s: at 10 % the total is 0.9 · 20 + 0.1 · (0.5 / 0.1) = 18.5 s, so 18 s are left.
    const int second = q.enqueue(fakeSpec("slow2"), dir.path());
    q.setExpectedSeconds(second, 20.0);
    QTRY_VERIFY_WITH_TIMEOUT(q.job(second)->etaSeconds >= 0, 5000);
    QVERIFY2(std::abs(q.job(second)->etaSeconds - 18.0) < 1.0, qPrintable(QString::number(q.job(second)->etaSeconds)));
    q.cancelAllAndWait();
  }

  // The table model follows the manager: rows added and removed, a finished row's status.
  void tableModelFollowsTheQueue() {
    QTemporaryDir dir;
    FakeEngine engine(1);
    JobQueue q(engine.engine());
    JobTableModel model(&q);
    q.enqueue(fakeSpec("m1"), dir.path(), "first");
    q.enqueue(fakeSpec("m2"), dir.path(), "second");
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(model.index(1, JobTableModel::Title).data().toString(), QString("second"));
    QVERIFY(waitIdle(q, 5000));
    QCOMPARE(model.index(0, JobTableModel::Status).data().toString(), QString("done"));
    q.removeFinished();
    QCOMPARE(model.rowCount(), 0);
  }
};

QTEST_MAIN(TestJobQueue)
#include "test_job_queue.moc"
