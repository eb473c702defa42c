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

#[test]
fn every_line_from_every_thread_is_written_whole_and_in_order_per_thread() {
    let captured = Captured::default();
    let (writer, guard) = LogWriter::spawn(captured.clone()).unwrap();
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
    let mut next = [0usize; 4];
    for line in text.lines() {
        let words: Vec<&str> = line.split(' ').collect();
        let (t, n): (usize, usize) = (words[1].parse().unwrap(), words[3].parse().unwrap());
        assert_eq!(n, next[t], "thread {t} lost or reordered a line");
        assert_eq!(words.get(4).map_or(0, |x| x.len()), n % 300);
        next[t] += 1;
    }
    assert_eq!(next, [20_000; 4]);
}

#[test]
fn a_line_written_after_the_guard_is_gone_is_not_lost() {
    let (writer, guard) = LogWriter::spawn(io::sink()).unwrap();
    drop(guard);
    // Goes straight to stdout; the point is that it neither blocks nor panics.
    writer.make_writer().write_all(b"late line\n").unwrap();
}
