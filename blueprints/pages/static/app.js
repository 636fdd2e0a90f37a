/* Rantang Kasih: the pages' one script. Without it every form works as it is (a POST, then a
   redirect). With it, a form marked data-queue (a meal's confirmation, a visit) is kept in
   IndexedDB with its own Idempotency-Key, made when the button was pressed, and sent in the order
   it was made whenever the network allows; the page shows what is still waiting, and a meal counts
   as done only when the server said so. The queue survives closing the browser; what the server
   refuses (after the cut-off, say) shows the server's reason, in the user's language, and leaves
   the queue. */
(function () {
  "use strict";
  var STORE = "outbox";
  var queueBox = document.getElementById("queue");
  var sending = false;

  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open("rantang", 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore(STORE, { keyPath: "seq", autoIncrement: true });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function withStore(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var transaction = db.transaction(STORE, mode);
        var request = work(transaction.objectStore(STORE));
        transaction.oncomplete = function () { db.close(); resolve(request ? request.result : undefined); };
        transaction.onerror = function () { db.close(); reject(transaction.error); };
        transaction.onabort = function () { db.close(); reject(transaction.error); };
      });
    });
  }

  function waiting() { return withStore("readonly", function (s) { return s.getAll(); }); }
  function keep(item) { return withStore("readwrite", function (s) { return s.add(item); }); }
  function drop(seq) { return withStore("readwrite", function (s) { return s.delete(seq); }); }

  function newKey() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function csrfToken() {
    var field = document.querySelector("input[name=csrf_token]");
    return field ? field.value : "";
  }

  function mealOf(id) { return document.getElementById("meal-" + id); }

  function say(text, kind) {
    if (!queueBox) { return; }
    var line = document.createElement("p");
    line.textContent = text;
    if (kind) { line.className = kind; }
    queueBox.appendChild(line);
  }

  function render() {
    return waiting().then(function (items) {
      document.querySelectorAll(".meal").forEach(function (meal) {
        var pending = items.some(function (item) { return String(item.delivery) === meal.dataset.deliveryId; });
        meal.querySelector(".pending").classList.toggle("hidden", !pending);
        var actions = meal.querySelector(".actions");
        if (actions) { actions.classList.toggle("hidden", pending); }
      });
      if (!queueBox) { return items; }
      queueBox.textContent = "";
      if (items.length) {
        say(queueBox.dataset.waiting + ": " + items.length, "status-waiting");
        var list = document.createElement("ul");
        items.forEach(function (item) {
          var entry = document.createElement("li");
          entry.textContent = item.label;
          entry.dataset.waitingFor = item.delivery;
          list.appendChild(entry);
        });
        queueBox.appendChild(list);
        if (!navigator.onLine) { say(queueBox.dataset.offline); }
      }
      return items;
    });
  }

  function answered(item, text, kind) {
    var box = document.getElementById("answers");
    if (!box) { return; }
    var line = document.createElement("p");
    line.className = "notice" + (kind ? " " + kind : "");
    line.setAttribute("role", kind ? "alert" : "status");
    line.textContent = item.label + ": " + text;
    box.appendChild(line);
  }

  function settle(item, answer) {
    if (!item.delivery) {  /* a visit, or another form not about one meal: emptied once the server took it */
      if (answer.status) {
        answered(item, queueBox.dataset[answer.status] || answer.status);
        document.querySelectorAll("form[data-queue]").forEach(function (form) {
          if (form.action === item.url) { form.reset(); }
        });
      }
      else { answered(item, answer.detail || answer.title || "", "error"); }
      return;
    }
    var meal = mealOf(item.delivery);
    if (!meal) { return; }
    var box = meal.querySelector(".answer");
    if (answer.status) {
      var shown = meal.querySelector(".status");
      shown.textContent = queueBox.dataset[answer.status] || answer.status;
      shown.className = "status status-" + answer.status;
      shown.dataset.status = answer.status;
      var actions = meal.querySelector(".actions");
      if (actions) { actions.remove(); }
      var left = document.getElementById("to-confirm");
      if (left) { left.textContent = String(Math.max(0, Number(left.textContent) - 1)); }
      box.classList.add("hidden");
    } else {
      box.textContent = answer.detail || answer.title || "";
      box.classList.remove("hidden");
    }
  }

  /* Send what waits, oldest first; stop at the first that cannot be sent now (no network, the
     server busy, the session ended) and try again later. */
  function send() {
    if (sending) { return Promise.resolve(); }
    sending = true;
    return waiting().then(function next(items) {
      if (!items.length) { return null; }
      var item = items[0];
      return fetch(item.url, {
        method: "POST", credentials: "same-origin", body: item.body,
        headers: { "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json",
                   "Idempotency-Key": item.key, "X-CSRFToken": csrfToken() }
      }).then(function (response) {
        if (response.status === 401) { say(queueBox.dataset.signin, "status-waiting"); return null; }
        if (response.ok || (response.status >= 400 && response.status < 500 && response.status !== 429)) {
          return response.json().catch(function () { return {}; }).then(function (answer) {
            if (response.status === 400 && answer.code === "csrf") { return null; }
            settle(item, response.ok ? answer : { detail: answer.detail, title: answer.title });
            return drop(item.seq).then(waiting).then(next);
          });
        }
        return null;  /* 5xx, 429: the server will take it later */
      }, function () { return null; });  /* no network */
    }).then(function () { sending = false; return render(); }, function () { sending = false; });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-queue") || !window.indexedDB) { return; }
    event.preventDefault();
    var meal = form.closest(".meal");
    var body = new URLSearchParams(new FormData(form));
    body.delete("csrf_token");
    var item = { url: form.action, body: body.toString(), key: newKey(),
                 delivery: meal ? meal.dataset.deliveryId : null,
                 label: form.dataset.label || (meal ? meal.dataset.label : ""), made: new Date().toISOString() };
    keep(item).then(render).then(send);
  });

  document.addEventListener("submit", function (event) {
    if (event.target.matches("form[action='/keluar']") && window.caches) {
      caches.keys().then(function (names) { names.forEach(function (name) { caches.delete(name); }); });
    }
  });

  if (document.body.hasAttribute("data-offline")) {
    if (navigator.storage && navigator.storage.persist) { navigator.storage.persist(); }
    if ("serviceWorker" in navigator) { navigator.serviceWorker.register("/sw.js"); }
    window.addEventListener("online", send);
    window.addEventListener("offline", render);
    setInterval(send, 20000);
    render().then(send);
  }
}());
