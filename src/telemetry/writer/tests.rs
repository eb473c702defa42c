use std::sync::Condvar;
use std::time::Instant;

use super::*;

/// A `Write` the test can read back after the writer thread has finished.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A sink that blocks every write until it is opened, as a pipe nobody reads does.
#[derive(Clone, Default)]
struct Stuck {
    open: Arc<(Mutex<bool>, Condvar)>,
    written: Captured,
}

impl Stuck {
    fn open(&self) {
        *self.open.0.lock().unwrap() = true;
        self.open.1.notify_all();
    }
}

impl Write for Stuck {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let (open, opened) = &*self.open;
        let mut open = open.lock().unwrap();
        while !*open {
            open = opened.wait(open).unwrap();
        }
        self.written.write(bytes)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn no_report(_: u64) {}

#[test]
fn every_line_from_every_thread_is_written_whole_and_in_order_per_thread() {
    let captured = Captured::default();
    let (writer, guard) = LogWriter::spawn(captured.clone(), no_report).unwrap();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let writer = writer.clone();
            std::thread::spawn(move || {
                for n in 0..20_000 {
                    let line = format!("thread {t} line {n} {}\n", "x".repeat(n % 300));
                    writer.make_writer().write_all(line.as_bytes()).unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    drop(guard);
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let mut arrived = [0u64; 4];
    let mut last = [None::<usize>; 4];
    for line in text.lines() {
        let words: Vec<&str> = line.split(' ').collect();
        let (t, n): (usize, usize) = (words[1].parse().unwrap(), words[3].parse().unwrap());
        assert!(
            last[t].is_none_or(|previous| n > previous),
            "thread {t} reordered a line"
        );
        assert_eq!(
            words.get(4).map_or(0, |x| x.len()),
            n % 300,
            "a line is cut"
        );
        last[t] = Some(n);
        arrived[t] += 1;
    }
    // A fast sink takes every line; were any dropped, each one is counted.
    assert_eq!(arrived.iter().sum::<u64>() + writer.dropped(), 80_000);
}

#[test]
fn a_stuck_sink_never_holds_up_a_logger_and_the_loss_is_reported_once_it_moves() {
    let sink = Stuck::default();
    let reports = Arc::new(Mutex::new(Vec::new()));
    let reported = reports.clone();
    let (writer, guard) = LogWriter::spawn(sink.clone(), move |lost| {
        reported.lock().unwrap().push(lost);
    })
    .unwrap();
    let line = format!("{}\n", "y".repeat(199));
    // Far more than the buffer holds: a logger that waited for the sink would never finish.
    let lines = 3 * BUFFER_LIMIT / line.len();
    let (finished, logged) = mpsc::channel();
    let logger = writer.clone();
    let line_for_logger = line.clone();
    std::thread::spawn(move || {
        for _ in 0..lines {
            logger
                .make_writer()
                .write_all(line_for_logger.as_bytes())
                .unwrap();
        }
        finished.send(()).unwrap();
    });
    logged
        .recv_timeout(Duration::from_secs(30))
        .expect("the logger was held up by a sink that does not move");
    let dropped = writer.dropped();
    assert!(dropped > 0, "nothing was dropped");
    assert!(dropped_lines() >= dropped);
    assert!(
        reports.lock().unwrap().is_empty(),
        "reported before the sink moved"
    );
    sink.open();
    // The loss may be reported in more than one piece, as the writer catches up: wait for
    // the whole of it (or the deadline), not for the first report.
    let deadline = Instant::now() + Duration::from_secs(30);
    let reported_so_far = || reports.lock().unwrap().iter().sum::<u64>();
    while reported_so_far() < dropped && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(reported_so_far(), dropped, "every dropped line is reported");
    drop(guard);
    let written = sink.written.0.lock().unwrap().len();
    assert_eq!(
        written as u64 + dropped * line.len() as u64,
        (lines * line.len()) as u64
    );
}

#[test]
fn a_line_written_after_the_guard_is_gone_is_not_lost() {
    let (writer, guard) = LogWriter::spawn(io::sink(), no_report).unwrap();
    drop(guard);
    // Goes straight to stdout; the point is that it neither blocks nor panics.
    writer.make_writer().write_all(b"late line\n").unwrap();
}

#[test]
fn a_stuck_sink_does_not_keep_the_guard_from_returning() {
    let sink = Stuck::default();
    let (writer, guard) = LogWriter::spawn(sink.clone(), no_report).unwrap();
    writer.make_writer().write_all(b"never written\n").unwrap();
    let (dropped, done) = mpsc::channel();
    std::thread::spawn(move || {
        drop(guard);
        dropped.send(()).unwrap();
    });
    done.recv_timeout(FLUSH_TIMEOUT + Duration::from_secs(10))
        .expect("the guard waited for a stuck sink");
    sink.open();
}
